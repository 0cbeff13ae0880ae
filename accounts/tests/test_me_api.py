"""``GET``/``PATCH /api/auth/me/``: the profile (issue 17, point 2)."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import ClientProfile
from bookings.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/auth/me/"


def _client(user) -> APIClient:
    client = APIClient()
    token = Token.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_get_creates_an_empty_profile_on_demand():
    # given a user made before profiles existed (admin, seed_demo)
    user = UserFactory(username="amina", email="amina@example.com")
    # when
    response = _client(user).get(URL)
    # then
    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "username": "amina",
        "email": "amina@example.com",
        "full_name": "",
        "phone_number": "",
        "is_staff": False,
    }
    assert ClientProfile.objects.filter(user=user).count() == 1


def test_patch_updates_name_email_and_normalised_phone():
    user = UserFactory(username="amina", email="amina@example.com")
    client = _client(user)
    body = {
        "full_name": "Amina Otieno",
        "email": "amina.o@example.com",
        "phone_number": "+254 711-000-000",
    }
    response = client.patch(URL, body, format="json")
    assert response.status_code == 200
    assert response.json()["phone_number"] == "254711000000"
    user.refresh_from_db()
    assert user.email == "amina.o@example.com"
    # and the next request (through the token cache) reads the new values
    again = client.get(URL).json()
    assert (again["full_name"], again["email"]) == (
        "Amina Otieno",
        "amina.o@example.com",
    )


def test_patch_may_empty_the_phone_and_leaves_the_rest():
    user = UserFactory()
    ClientProfile.objects.create(
        user=user, full_name="Juma", phone_number="254708374149"
    )
    response = _client(user).patch(URL, {"phone_number": ""}, format="json")
    assert response.status_code == 200
    assert (response.json()["full_name"], response.json()["phone_number"]) == (
        "Juma",
        "",
    )


def test_username_is_read_only():
    user = UserFactory(username="amina")
    response = _client(user).patch(URL, {"username": "boss"}, format="json")
    assert response.status_code == 200
    assert response.json()["username"] == "amina"


def test_patch_bad_phone_is_a_400_in_the_error_shape():
    response = _client(UserFactory()).patch(
        URL, {"phone_number": "0201234567"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "phone_number": ["Enter a Kenyan mobile number, e.g. 0712 345 678."]
    }


def test_patch_email_of_another_account_is_a_400_case_insensitive():
    UserFactory(username="other", email="taken@example.com")
    user = UserFactory(email="mine@example.com")
    client = _client(user)
    response = client.patch(URL, {"email": "TAKEN@example.com"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["email"]
    # keeping one's own address is no conflict
    same = client.patch(URL, {"email": "MINE@example.com"}, format="json")
    assert same.status_code == 200


def test_patch_invalid_email_is_a_400():
    response = _client(UserFactory()).patch(URL, {"email": "nope"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["email"]


def test_staff_get_the_same_endpoint():
    response = _client(UserFactory(staff=True)).get(URL)
    assert response.status_code == 200
    assert response.json()["is_staff"] is True


def test_anonymous_is_401(api_client):
    assert api_client.get(URL).status_code == 401
    assert api_client.patch(URL, {}, format="json").status_code == 401
