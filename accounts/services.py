"""The writers of client accounts: sign-up, profile, sign-out, reset.

Input is validated by the API's serializers (``accounts/api``); these own
the writes, each in one transaction.
"""

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.authtoken.models import Token

from accounts.exceptions import EmailTaken, UsernameTaken
from accounts.models import ClientProfile

logger = logging.getLogger(__name__)

RESET_SUBJECT = "Reset your Haki Yetu password"
RESET_BODY = (
    "Someone (we hope you) asked to reset the password of your Haki Yetu "
    "account.\n\nOpen this link to choose a new one:\n{link}\n\n"
    "The link works once and expires in a few days. If you did not ask, "
    "ignore this message: your password stays as it is.\n"
)


@transaction.atomic
def account_register(
    *,
    username: str,
    password: str,
    email: str,
    full_name: str = "",
    phone_number: str = "",
) -> tuple[AbstractBaseUser, Token]:
    """Create a plain client (not staff, no groups), its profile and token.

    ``password`` is already validated; ``phone_number`` normalised or empty.

    Raises:
        UsernameTaken: a concurrent sign-up inserted the same username.
        EmailTaken: a concurrent sign-up (or profile change) took the
            e-mail address; nothing is written.
    """
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user(
                username=username, email=email, password=password
            )
    except IntegrityError:
        raise UsernameTaken(
            field="username" if username != email else "email"
        ) from None
    try:
        with transaction.atomic():
            ClientProfile.objects.create(
                user=user,
                full_name=full_name,
                phone_number=phone_number,
                email_key=email_key(email),
            )
    except IntegrityError:
        raise EmailTaken from None
    token = Token.objects.create(user=user)
    logger.info("client account %s registered", user.pk)
    return user, token


def profile_get(*, user: AbstractBaseUser) -> ClientProfile:
    """The user's profile, created empty on first need."""
    profile, _ = ClientProfile.objects.get_or_create(user=user)
    return profile


@transaction.atomic
def profile_update(
    *,
    user: AbstractBaseUser,
    full_name: str | None = None,
    email: str | None = None,
    phone_number: str | None = None,
) -> ClientProfile:
    """Update what is given (None leaves a field as it is).

    Saving the user drops its cached token entries (a fresh e-mail is read
    on the next request).

    Raises:
        EmailTaken: another account took the address meanwhile; nothing
            is written.
    """
    # The user first, then its profile (the parent row before the child).
    account = get_user_model().objects.select_for_update().get(pk=user.pk)
    profile, _ = ClientProfile.objects.select_for_update().get_or_create(user=account)
    changed = [
        name
        for name, value in (("full_name", full_name), ("phone_number", phone_number))
        if value is not None and getattr(profile, name) != value
    ]
    for name in changed:
        setattr(profile, name, full_name if name == "full_name" else phone_number)
    if changed:
        profile.save(update_fields=[*changed, "updated_at"])
    if email is not None and email != account.email:
        profile.email_key = email_key(email)
        try:
            with transaction.atomic():
                profile.save(update_fields=["email_key", "updated_at"])
        except IntegrityError:
            raise EmailTaken from None
        account.email = email
        account.save(update_fields=["email"])
        user.email = email
    return profile


def email_key(email: str) -> str:
    """The form of an address that decides whether it is taken."""
    return email.strip().lower()


def token_revoke(*, token: Token) -> None:
    """Delete one API token; the token cache forgets it at once."""
    Token.objects.filter(key=token.key).delete()


def password_reset_link(*, user: AbstractBaseUser, base_url: str) -> str:
    """``base_url`` with ``#reset?uid=..&token=..`` for this user."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return f"{base_url}#reset?uid={uid}&token={token}"


def password_reset_request(*, email: str, base_url: str) -> int:
    """E-mail a reset link to each active account with this address.

    Returns how many were sent (the API never tells). A mail server that
    fails is logged, never raised: the answer must not reveal anything.
    """
    users = get_user_model().objects.filter(email__iexact=email, is_active=True)
    sent = 0
    for user in users:
        if not user.has_usable_password():
            continue
        link = password_reset_link(user=user, base_url=base_url)
        try:
            send_mail(RESET_SUBJECT, RESET_BODY.format(link=link), None, [user.email])
        except Exception:  # the answer is the same whatever happens
            logger.exception("password reset mail to user %s failed", user.pk)
            continue
        sent += 1
    logger.info("password reset asked: %s mail(s) sent", sent)
    return sent


@transaction.atomic
def password_reset_confirm(*, user: AbstractBaseUser, new_password: str) -> None:
    """Set a new password (the link and password already checked).

    Saving a new password revokes ALL the user's API tokens
    (``accounts.authentication.revoke_tokens_on_password_change``).
    """
    account = get_user_model().objects.select_for_update().get(pk=user.pk)
    account.set_password(new_password)
    account.save(update_fields=["password"])
    logger.info("password of user %s reset by link", account.pk)
