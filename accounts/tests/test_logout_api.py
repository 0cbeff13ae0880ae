"""``POST /api/auth/logout/`` revokes the token in use (issue 17, point 2)."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from bookings.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/auth/logout/"


@pytest.fixture(autouse=True)
def _cache_on(settings):
    # The cached token must be forgotten at once, not after its time-out.
    settings.AUTH_TOKEN_CACHE_SECONDS = 60


def _client(token: Token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_logout_revokes_the_token_and_reuse_is_401():
    # given a token that works and sits in the token cache
    token = Token.objects.create(user=UserFactory())
    client = _client(token)
    assert client.get("/api/auth/me/").status_code == 200
    # when
    response = client.post(URL)
    # then
    assert response.status_code == 204
    assert not Token.objects.filter(key=token.key).exists()
    reuse = client.get("/api/auth/me/")
    assert reuse.status_code == 401
    assert reuse.json()["error"]["code"] == "authentication_failed"
    assert client.post(URL).status_code == 401


def test_logout_leaves_other_users_tokens():
    # given two users' tokens (DRF keeps one token per user)
    token = Token.objects.create(user=UserFactory())
    other = Token.objects.create(user=UserFactory())
    # when
    _client(token).post(URL)
    # then
    assert _client(other).get("/api/auth/me/").status_code == 200


def test_logout_without_credentials_is_401(api_client):
    response = api_client.post(URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_logout_of_a_session_signs_it_out(client):
    # given a signed-in session (the checkout page's)
    client.force_login(UserFactory())
    # when (the session is CSRF-checked: the test client skips the check)
    response = client.post(URL)
    # then
    assert response.status_code == 204
    assert client.get("/api/auth/me/").status_code == 401
