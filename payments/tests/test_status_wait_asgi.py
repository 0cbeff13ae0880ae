"""The ASGI service's status view (``hakiyetu.asgi``): the same answers as
the WSGI action, waiting on the event loop. Its looks run in their own
threads, so these tests commit (``transaction=True``)."""

import asyncio
import time

import pytest
from django.test import AsyncClient, override_settings
from django.urls import resolve
from rest_framework.authtoken.models import Token

from bookings.tests.factories import UserFactory
from hakiyetu.asgi import ASGI_URLCONF, WaitingASGIRequest
from payments.api.status_wait import payment_status_view
from payments.tests.factories import PaymentFactory
from payments.tests.status_wait_support import (  # noqa: F401 (a fixture)
    LateCallback,
    only_the_signal_wakes,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_asgi_urls"),
]


@pytest.fixture
def _asgi_urls():
    with override_settings(ROOT_URLCONF=ASGI_URLCONF):
        yield


def get(checkout_request_id: str, *, token: str | None, wait: str | None = None):
    """One GET through Django's ASGI handler, in a fresh event loop."""
    query = {} if wait is None else {"wait": wait}
    headers = {"Authorization": f"Token {token}"} if token else {}
    url = f"/api/payment/mpesa/status/{checkout_request_id}"
    return asyncio.run(AsyncClient().get(url, query, headers=headers))


def token_of(user) -> str:
    return Token.objects.create(user=user).key


def test_the_asgi_service_serves_status_with_the_async_view():
    # given
    path = "/api/payment/mpesa/status/ws_CO_1"
    # when
    match = resolve(path, urlconf=WaitingASGIRequest.urlconf)
    # then
    assert match.func is payment_status_view


@pytest.mark.usefixtures("only_the_signal_wakes")
def test_asgi_wait_answers_when_a_callback_completes_the_payment():
    # given: the callback comes 0.3 s into a 20 s wait
    payment = PaymentFactory()
    token = token_of(payment.booking.client)
    callback = LateCallback(payment.checkout_request_id, delay=0.3)
    callback.start()
    started = time.monotonic()
    # when
    response = get(payment.checkout_request_id, token=token, wait="20")
    # then
    callback.join()
    assert response.status_code == 200
    assert response.json()["status"] == "completed"
    assert time.monotonic() - started < 10


def test_asgi_wait_runs_out_with_the_current_state():
    # given
    payment = PaymentFactory()
    token = token_of(payment.booking.client)
    # when
    response = get(payment.checkout_request_id, token=token, wait="1")
    # then
    assert response.status_code == 200
    assert response.json()["is_final"] is False


def test_asgi_answers_the_same_with_and_without_wait():
    # given
    payment = PaymentFactory(completed=True)
    token = token_of(payment.booking.client)
    # when
    at_once = get(payment.checkout_request_id, token=token)
    waited = get(payment.checkout_request_id, token=token, wait="5")
    # then
    assert at_once.status_code == waited.status_code == 200
    assert at_once.json() == waited.json()
    assert at_once.json()["mpesa_receipt_number"] == payment.mpesa_receipt_number


@pytest.mark.parametrize("wait", ["0", "31", "x"])
def test_asgi_bad_wait_is_a_json_400(wait):
    # given
    payment = PaymentFactory()
    token = token_of(payment.booking.client)
    # when
    response = get(payment.checkout_request_id, token=token, wait=wait)
    # then
    assert response.status_code == 400
    assert "wait" in response.json()["error"]["fields"]


def test_asgi_bad_wait_without_credentials_is_401_first():
    # given
    payment = PaymentFactory()
    # when
    response = get(payment.checkout_request_id, token=None, wait="x")
    # then
    assert response.status_code == 401


def test_asgi_wait_on_another_clients_payment_is_404():
    # given
    payment = PaymentFactory()
    token = token_of(UserFactory())
    # when
    response = get(payment.checkout_request_id, token=token, wait="30")
    # then
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_asgi_wait_on_an_unknown_checkout_id_is_a_json_404():
    # given
    token = token_of(UserFactory())
    # when
    response = get("ws_CO_UNKNOWN", token=token, wait="3")
    # then
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
