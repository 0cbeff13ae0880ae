"""A password change revokes the user's API tokens (issue 11, point 22):
whoever held the old password may also hold a token taken with it."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from bookings.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-new-passphrase-for-2027"


@pytest.fixture(autouse=True)
def _cache_on(settings):
    # The token cache must not keep a revoked token alive either.
    settings.AUTH_TOKEN_CACHE_SECONDS = 60


def _token_client(user) -> APIClient:
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _bookings_status(client: APIClient) -> int:
    return client.get("/api/bookings/").status_code


def test_password_change_in_the_admin_revokes_the_users_tokens(admin_client):
    # given: the token works and is in the token cache
    user = UserFactory()
    api = _token_client(user)
    assert _bookings_status(api) == 200
    # when: a superuser sets a new password in the admin's form
    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    # then
    assert response.status_code == 302
    assert _bookings_status(api) == 401
    assert Token.objects.filter(user=user).exists() is False


def test_own_password_change_in_the_admin_revokes_own_tokens(client):
    # given
    user = UserFactory(staff=True)
    user.set_password("the-old-passphrase-2026")
    user.save()
    api = _token_client(user)
    client.force_login(user)
    # when
    response = client.post(
        reverse("admin:password_change"),
        {
            "old_password": "the-old-passphrase-2026",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    # then
    assert response.status_code == 302
    assert _bookings_status(api) == 401


def test_set_password_and_save_revokes_tokens():
    # given
    user = UserFactory()
    api = _token_client(user)
    assert _bookings_status(api) == 200
    # when
    user.set_password(NEW_PASSWORD)
    user.save()
    # then
    assert _bookings_status(api) == 401


def test_saving_a_user_without_a_new_password_keeps_their_tokens():
    # given
    user = UserFactory()
    api = _token_client(user)
    # when
    user.first_name = "Wanjiru"
    user.save()
    # then
    assert _bookings_status(api) == 200
