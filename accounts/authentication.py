"""DRF token authentication with the token -> user lookup cached.

The SPA polls the status endpoint every few seconds per client, and each
poll authenticates: a token-and-user join in PostgreSQL every time. The
user of a valid token is kept in Django's cache (shared by every process
when it is Redis) for ``AUTH_TOKEN_CACHE_SECONDS`` under a hash of the key,
never the key itself. The cached user carries no password hash.

Invalidation is immediate for what matters: deleting a token (logout, a
rotated key) or saving its user (deactivated, staff flag changed) drops the
entry. A new password revokes the user's tokens outright, whatever path set
it (admin forms, ``set_password`` and ``save``, ``changepassword``): whoever
knew the old password may hold a token taken with it. The time-out bounds
the rest: changes made behind the ORM's signals (``QuerySet.update``), and a
request that read the user just before such a change and cached it just
after.
"""

import hashlib
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

logger = logging.getLogger(__name__)

# The user fields requests read; the rest (the password hash above all)
# stays out of the cache and loads on first access if ever needed.
CACHED_USER_FIELDS = (
    "id",
    "username",
    "first_name",
    "last_name",
    "email",
    "is_active",
    "is_staff",
    "is_superuser",
)


def token_cache_key(key: str) -> str:
    return "auth:token:" + hashlib.sha256(key.encode()).hexdigest()


class CachedTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``, as DRF's, with the lookup cached.

    A cache that fails is skipped: the database answers instead.
    """

    def authenticate_credentials(self, key):
        timeout = settings.AUTH_TOKEN_CACHE_SECONDS
        if timeout <= 0:
            return super().authenticate_credentials(key)
        cache_key = token_cache_key(key)
        user = _cache_call(cache.get, cache_key)
        if user is None:
            user = _user_of_token(key)
            _cache_call(cache.set, cache_key, user, timeout)
        return user, Token(key=key, user=user)


def _user_of_token(key: str):
    """The active user of a token, with DRF's errors otherwise."""
    users = get_user_model().objects.only(*CACHED_USER_FIELDS)
    try:
        user = users.get(auth_token__key=key)
    except users.model.DoesNotExist:
        raise AuthenticationFailed(_("Invalid token.")) from None
    if not user.is_active:
        raise AuthenticationFailed(_("User inactive or deleted."))
    return user


def _cache_call(operation, *args):
    try:
        return operation(*args)
    except Exception:  # a cache outage must not lock every client out
        logger.warning("token cache unavailable", exc_info=True)
        return None


def forget_token(sender, instance: Token, **kwargs) -> None:
    _cache_call(cache.delete, token_cache_key(instance.key))


def forget_user_tokens(sender, instance, **kwargs) -> None:
    keys = Token.objects.filter(user_id=instance.pk).values_list("key", flat=True)
    _cache_call(cache.delete_many, [token_cache_key(key) for key in keys])


# Set by ``note_password_change`` on the instance being saved.
_PASSWORD_CHANGED = "_hakiyetu_password_changed"  # noqa: S105 (a flag name)


def note_password_change(sender, instance, raw=False, update_fields=None, **kwargs):
    """Before a user is saved: is the stored password hash about to change?

    One indexed read, skipped when the save cannot touch the password
    (``update_fields`` without it, as for ``last_login`` on every login).
    """
    changed = False
    saves_password = update_fields is None or "password" in update_fields
    if (
        not raw
        and saves_password
        and not instance._state.adding
        and "password" not in instance.get_deferred_fields()
    ):
        stored = (
            sender._default_manager.filter(pk=instance.pk)
            .values_list("password", flat=True)
            .first()
        )
        changed = stored is not None and stored != instance.password
    setattr(instance, _PASSWORD_CHANGED, changed)


def revoke_tokens_on_password_change(sender, instance, **kwargs) -> None:
    """After a user is saved with a new password: delete their API tokens.

    Each deletion also drops the token from the cache (``forget_token``).
    """
    if not getattr(instance, _PASSWORD_CHANGED, False):
        return
    setattr(instance, _PASSWORD_CHANGED, False)
    revoked, _ = Token.objects.filter(user_id=instance.pk).delete()
    if revoked:
        logger.info("password of user %s changed: API tokens revoked", instance.pk)


def connect_signals() -> None:
    """Called from ``HakiyetuConfig.ready`` so every process invalidates."""
    user_model = get_user_model()
    post_delete.connect(forget_token, sender=Token, dispatch_uid="forget_token")
    post_save.connect(
        forget_user_tokens, sender=user_model, dispatch_uid="forget_user_tokens"
    )
    pre_save.connect(
        note_password_change, sender=user_model, dispatch_uid="note_password_change"
    )
    post_save.connect(
        revoke_tokens_on_password_change,
        sender=user_model,
        dispatch_uid="revoke_tokens_on_password_change",
    )
