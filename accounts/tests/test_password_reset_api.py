"""Password reset by e-mailed link (issue 17, point 3)."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.login_guard import login_blocked
from bookings.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/auth/password-reset/"
CONFIRM_URL = "/api/auth/password-reset/confirm/"
NEW_PASSWORD = "simba-na-chui-2027"
SAME_ANSWER = {
    "detail": "If an account has that e-mail address, a reset link is on its way."
}


@pytest.fixture(autouse=True)
def _cache_on(settings):
    settings.AUTH_TOKEN_CACHE_SECONDS = 60


@pytest.fixture
def user():
    account = UserFactory(username="achieng", email="achieng@example.com")
    account.set_password("the-old-passphrase-2026")
    account.save()
    return account


def _link_in_mail() -> str:
    assert len(mail.outbox) == 1
    return re.search(r"https?://\S+", mail.outbox[0].body).group(0)


def _uid_and_token(link: str) -> tuple[str, str]:
    fragment = urlsplit(link).fragment
    assert fragment.startswith("reset?")
    query = parse_qs(fragment.removeprefix("reset?"))
    return query["uid"][0], query["token"][0]


def test_reset_mails_a_working_link_and_revokes_all_tokens(api_client, user):
    # given a token in use (and cached)
    token = Token.objects.create(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/auth/me/").status_code == 200
    # when a reset is asked (any case of the address)
    response = api_client.post(URL, {"email": "Achieng@Example.com"}, format="json")
    # then one mail goes out, to the checkout page's reset form
    assert (response.status_code, response.json()) == (202, SAME_ANSWER)
    assert mail.outbox[0].to == ["achieng@example.com"]
    link = _link_in_mail()
    assert link.startswith("http://testserver/#reset?")
    uid, reset_token = _uid_and_token(link)
    # when the link's uid and token set a new password
    confirm = api_client.post(
        CONFIRM_URL,
        {"uid": uid, "token": reset_token, "new_password": NEW_PASSWORD},
        format="json",
    )
    # then
    assert confirm.status_code == 204
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert Token.objects.filter(user=user).count() == 0
    assert api.get("/api/auth/me/").status_code == 401
    # and the same link does not work twice
    again = api_client.post(
        CONFIRM_URL,
        {"uid": uid, "token": reset_token, "new_password": "another-one-2027-x"},
        format="json",
    )
    assert again.status_code == 400
    # and the new password signs in
    signin = api_client.post(
        "/api/auth/token/",
        {"username": "achieng", "password": NEW_PASSWORD},
        format="json",
    )
    assert signin.status_code == 200


def test_unknown_address_gets_the_same_202_and_no_mail(api_client, user):
    response = api_client.post(URL, {"email": "nobody@example.com"}, format="json")
    assert (response.status_code, response.json()) == (202, SAME_ANSWER)
    assert mail.outbox == []


def test_reset_link_goes_to_the_configured_url(api_client, user, settings):
    settings.PASSWORD_RESET_URL = "https://app.hakiyetu.example/account"
    api_client.post(URL, {"email": "achieng@example.com"}, format="json")
    assert _link_in_mail().startswith("https://app.hakiyetu.example/account#reset?")


def test_invalid_email_is_a_400(api_client):
    response = api_client.post(URL, {"email": "not-an-address"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["email"]


def test_reset_request_is_throttled_per_ip(api_client, user, throttle_rate):
    throttle_rate("auth_password_reset", "2/hour")
    for _ in range(2):
        assert api_client.post(URL, {"email": "x@example.com"}).status_code == 202
    response = api_client.post(URL, {"email": "achieng@example.com"})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert mail.outbox == []


def _valid(user) -> dict:
    return {
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
        "new_password": NEW_PASSWORD,
    }


@pytest.mark.parametrize(
    "change",
    [
        {"token": "abc-123"},
        {"uid": "bm9wZQ"},  # "nope"
        {"uid": "!!"},
        {"uid": urlsafe_base64_encode(b"99999999999999999999999")},
    ],
    ids=["wrong token", "uid not a number", "uid not base64", "uid too big"],
)
def test_wrong_token_or_uid_is_a_400_on_token(api_client, user, change):
    response = api_client.post(CONFIRM_URL, {**_valid(user), **change}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["token"]
    user.refresh_from_db()
    assert user.check_password("the-old-passphrase-2026")


def test_expired_token_is_a_400(api_client, user, settings):
    body = _valid(user)
    settings.PASSWORD_RESET_TIMEOUT = -1
    response = api_client.post(CONFIRM_URL, body, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["token"]


def test_weak_new_password_is_a_400_on_new_password(api_client, user):
    body = {**_valid(user), "new_password": "achieng123"}
    response = api_client.post(CONFIRM_URL, body, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["new_password"]


def test_missing_fields_are_named(api_client):
    response = api_client.post(CONFIRM_URL, {}, format="json")
    assert set(response.json()["error"]["fields"]) == {"uid", "token", "new_password"}


def test_reset_clears_the_login_lockout(api_client, user, settings, rf):
    # given this address is locked out of the account after failed sign-ins
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        api_client.post(
            "/api/auth/token/", {"username": "achieng", "password": "wrong-guess"}
        )
    assert login_blocked(rf.post("/api/auth/token/"), "achieng")
    # when the password is reset from the same address
    response = api_client.post(CONFIRM_URL, _valid(user), format="json")
    # then the new password signs in at once
    assert response.status_code == 204
    assert not login_blocked(rf.post("/api/auth/token/"), "achieng")
    signin = api_client.post(
        "/api/auth/token/", {"username": "achieng", "password": NEW_PASSWORD}
    )
    assert signin.status_code == 200
