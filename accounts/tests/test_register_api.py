"""``POST /api/auth/register/``: a new client signs up (issue 17, point 1)."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from accounts.models import ClientProfile
from bookings.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/auth/register/"
PASSWORD = "tembo-kubwa-2027-mvua"


def _body(**overrides) -> dict:
    body = {
        "username": "wanjiku",
        "password": PASSWORD,
        "full_name": "Wanjiku Kamau",
        "email": "wanjiku@example.com",
        "phone_number": "0708 374 149",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def test_register_creates_a_plain_client_with_a_working_token(api_client):
    # when
    response = api_client.post(URL, _body(), format="json")
    # then
    assert response.status_code == 201
    user = get_user_model().objects.get(username="wanjiku")
    assert response.json() == {
        "token": Token.objects.get(user=user).key,
        "user": {
            "id": user.pk,
            "username": "wanjiku",
            "email": "wanjiku@example.com",
            "full_name": "Wanjiku Kamau",
            "phone_number": "254708374149",
            "is_staff": False,
        },
    }
    assert (user.is_staff, user.is_superuser, user.groups.count()) == (False, False, 0)
    assert user.check_password(PASSWORD)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert api_client.get("/api/auth/me/").json()["username"] == "wanjiku"


def test_register_without_username_uses_the_email(api_client):
    response = api_client.post(
        URL, _body(username=None, phone_number=None), format="json"
    )
    assert response.status_code == 201
    assert response.json()["user"]["username"] == "wanjiku@example.com"
    assert response.json()["user"]["phone_number"] == ""


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1", "too short"),
        ("password123", "too common"),
        ("83749261530", "entirely numeric"),
        ("wanjiku@example", "similar"),
    ],
)
def test_weak_password_is_a_400_on_password(api_client, password, reason):
    response = api_client.post(URL, _body(password=password), format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert reason in " ".join(error["fields"]["password"])
    assert not get_user_model().objects.filter(username="wanjiku").exists()


def test_taken_username_is_a_400_on_username_case_insensitive(api_client):
    UserFactory(username="Wanjiku")
    response = api_client.post(URL, _body(), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "username": ["That username is taken."]
    }


def test_taken_email_is_a_400_on_email_case_insensitive(api_client):
    UserFactory(username="someone", email="WANJIKU@example.com")
    response = api_client.post(URL, _body(), format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["email"]


def test_email_used_as_someones_username_is_taken(api_client):
    UserFactory(username="wanjiku@example.com")
    response = api_client.post(URL, _body(username=None), format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["email"]


@pytest.mark.parametrize("phone", ["020 123 4567", "+44 7700 900123", "abc"])
def test_bad_phone_is_a_400_on_phone_number(api_client, phone):
    response = api_client.post(URL, _body(phone_number=phone), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "phone_number": ["Enter a Kenyan mobile number, e.g. 0712 345 678."]
    }


def test_missing_fields_are_named(api_client):
    response = api_client.post(URL, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {
        "password",
        "full_name",
        "email",
    }
    assert ClientProfile.objects.count() == 0


def test_register_is_throttled_per_ip(api_client, throttle_rate):
    # given a rate of 2 an hour
    throttle_rate("auth_register", "2/hour")
    for n in range(2):
        body = _body(username=f"u{n}", email=f"u{n}@example.com")
        assert api_client.post(URL, body, format="json").status_code == 201
    # when a third comes from the same address
    response = api_client.post(URL, _body(), format="json")
    # then
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert "Retry-After" in response
    # and another address may still sign up
    other = api_client.post(URL, _body(), format="json", REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 201


def test_register_rate_defaults_to_ten_an_hour(settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert rates["auth_register"] == "10/hour"
    assert rates["auth_password_reset"] == "5/hour"


def test_a_username_taken_after_the_check_is_a_400_not_a_500():
    # given a sign-up that passed validation while another inserted the name
    from accounts.exceptions import UsernameTaken
    from accounts.services import account_register

    UserFactory(username="wanjiku")
    # when the insert meets the unique index
    with pytest.raises(UsernameTaken) as raised:
        account_register(username="wanjiku", password=PASSWORD, email="w2@example.com")
    # then it is the API's 400 on username, and nothing was left behind
    assert raised.value.status_code == 400
    assert raised.value.as_body()["error"]["fields"] == {
        "username": ["That username is taken."]
    }
    assert ClientProfile.objects.count() == 0
