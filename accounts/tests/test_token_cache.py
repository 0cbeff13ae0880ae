"""API token authentication with the token -> user lookup cached."""

import pickle

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.authentication import token_cache_key
from bookings.tests.factories import UserFactory
from payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cache_on(settings):
    settings.AUTH_TOKEN_CACHE_SECONDS = 60


def _token_client(user) -> tuple[APIClient, Token]:
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client, token


def _status(client: APIClient, payment) -> int:
    url = f"/api/payment/mpesa/status/{payment.checkout_request_id}"
    return client.get(url).status_code


def _token_queries(captured: CaptureQueriesContext) -> list[str]:
    sqls = [query["sql"] for query in captured.captured_queries]
    return [sql for sql in sqls if "authtoken_token" in sql]


def test_a_poll_after_the_first_reads_the_token_from_the_cache():
    # given
    payment = PaymentFactory()
    client, _ = _token_client(payment.booking.client)
    assert _status(client, payment) == 200
    # when
    with CaptureQueriesContext(connection) as captured:
        answer = _status(client, payment)
    # then
    assert answer == 200
    assert _token_queries(captured) == []


def test_logout_deleting_the_token_stops_it_at_once():
    # given
    payment = PaymentFactory()
    client, token = _token_client(payment.booking.client)
    assert _status(client, payment) == 200
    # when
    token.delete()
    # then
    assert _status(client, payment) == 401


def test_a_deactivated_user_is_refused_at_once():
    # given
    payment = PaymentFactory()
    client, _ = _token_client(payment.booking.client)
    assert _status(client, payment) == 200
    # when
    user = payment.booking.client
    user.is_active = False
    user.save()
    # then
    assert _status(client, payment) == 401


def test_a_user_added_to_support_sees_others_payments_at_once():
    # given: another client's payment is hidden from this user
    user = UserFactory()
    payment = PaymentFactory()
    client, _ = _token_client(user)
    assert _status(client, payment) == 404
    # when: permissions are read per request, not cached with the user
    user.groups.add(Group.objects.get(name="Support"))
    # then
    assert _status(client, payment) == 200


def test_the_cache_holds_neither_the_key_nor_the_password_hash():
    # given
    payment = PaymentFactory()
    user = payment.booking.client
    user.set_password("correct horse battery staple")
    user.save()
    client, token = _token_client(user)
    # when
    _status(client, payment)
    # then
    cached = cache.get(token_cache_key(token.key))
    assert cached.pk == user.pk
    blob = pickle.dumps(cached)
    assert token.key.encode() not in blob
    assert user.password.startswith(("pbkdf2", "md5", "argon2", "bcrypt"))
    assert user.password.encode() not in blob
    assert token.key not in token_cache_key(token.key)


def test_an_unknown_token_is_refused_with_the_error_shape():
    # given
    payment = PaymentFactory()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    # when
    response = client.get(f"/api/payment/mpesa/status/{payment.checkout_request_id}")
    # then
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_failing_cache_falls_back_to_the_database(monkeypatch):
    # given: the cache raises on every call
    payment = PaymentFactory()
    client, _ = _token_client(payment.booking.client)

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get", broken)
    monkeypatch.setattr(cache, "set", broken)
    # when / then
    assert _status(client, payment) == 200


def test_the_cache_can_be_turned_off(settings):
    # given
    settings.AUTH_TOKEN_CACHE_SECONDS = 0
    payment = PaymentFactory()
    client, _ = _token_client(payment.booking.client)
    _status(client, payment)
    # when
    with CaptureQueriesContext(connection) as captured:
        _status(client, payment)
    # then
    assert len(_token_queries(captured)) == 1
