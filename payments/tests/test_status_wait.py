"""``GET /api/payment/mpesa/status/<id>?wait=N`` on the WSGI path (the
embedded defaults: ``make run``, the test client)."""

import time

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from bookings.tests.factories import UserFactory
from payments.models import Payment
from payments.tests.factories import PaymentFactory
from payments.tests.status_wait_support import (  # noqa: F401 (a fixture)
    LateCallback,
    only_the_signal_wakes,
)

pytestmark = pytest.mark.django_db


def status_url(payment: Payment, wait: str | None = None) -> str:
    url = f"/api/payment/mpesa/status/{payment.checkout_request_id}"
    return url if wait is None else f"{url}?wait={wait}"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("only_the_signal_wakes")
def test_wait_answers_when_a_callback_completes_the_payment(api_client):
    # given: a pending payment; its callback comes 0.3 s into a 20 s wait
    payment = PaymentFactory()
    api_client.force_authenticate(payment.booking.client)
    callback = LateCallback(payment.checkout_request_id, delay=0.3)
    callback.start()
    started = time.monotonic()
    # when
    response = api_client.get(status_url(payment, wait="20"))
    # then: answered on the wake-up, long before the wait ran out
    callback.join()
    assert callback.status_code == 200
    assert response.status_code == 200
    assert response.json()["status"] == "completed"
    assert response.json()["is_final"] is True
    assert time.monotonic() - started < 10


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("only_the_signal_wakes")
def test_wait_answers_when_a_callback_fails_the_payment(api_client):
    # given
    payment = PaymentFactory()
    api_client.force_authenticate(payment.booking.client)
    callback = LateCallback(payment.checkout_request_id, delay=0.3, ok=False)
    callback.start()
    # when
    body = api_client.get(status_url(payment, wait="20")).json()
    # then
    callback.join()
    assert (body["status"], body["failure_kind"]) == ("failed", "cancelled")


def test_wait_on_a_final_payment_answers_at_once(api_client):
    # given
    payment = PaymentFactory(completed=True)
    api_client.force_authenticate(payment.booking.client)
    started = time.monotonic()
    # when
    response = api_client.get(status_url(payment, wait="30"))
    # then
    assert response.json()["status"] == "completed"
    assert time.monotonic() - started < 10


def test_wait_runs_out_with_the_current_state(api_client):
    # given: nothing will happen to this payment
    payment = PaymentFactory()
    api_client.force_authenticate(payment.booking.client)
    # when
    response = api_client.get(status_url(payment, wait="1"))
    # then
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    assert response.json()["is_final"] is False


def test_wait_answers_the_same_fields_as_without_it(api_client):
    # given
    payment = PaymentFactory(completed=True)
    api_client.force_authenticate(payment.booking.client)
    # when
    waited = api_client.get(status_url(payment, wait="5")).json()
    at_once = api_client.get(status_url(payment)).json()
    # then
    assert waited == at_once


@pytest.mark.parametrize("wait", ["0", "31", "-1", "abc", "", "2.5", "1e3"])
def test_wait_that_is_not_1_to_30_seconds_is_a_json_400(api_client, wait):
    # given
    payment = PaymentFactory()
    api_client.force_authenticate(payment.booking.client)
    # when
    response = api_client.get(status_url(payment, wait=wait))
    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "wait" in error["fields"]


@pytest.mark.parametrize("wait", [None, "5"])
def test_wait_without_credentials_is_refused_as_without_wait(wait):
    # given
    payment = PaymentFactory()
    # when
    response = APIClient().get(status_url(payment, wait=wait))
    # then
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_wait_with_a_token_authenticates_as_without_wait():
    # given
    payment = PaymentFactory(completed=True)
    token = Token.objects.create(user=payment.booking.client)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")
    # when
    response = client.get(status_url(payment, wait="5"))
    # then
    assert response.status_code == 200


def test_wait_on_another_clients_payment_is_404_at_once(api_client):
    # given
    payment = PaymentFactory()
    api_client.force_authenticate(UserFactory())
    started = time.monotonic()
    # when
    response = api_client.get(status_url(payment, wait="30"))
    # then
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert time.monotonic() - started < 10


def test_wait_on_an_unknown_checkout_id_is_a_json_404(api_client):
    # given
    api_client.force_authenticate(UserFactory())
    # when
    response = api_client.get("/api/payment/mpesa/status/ws_CO_UNKNOWN?wait=3")
    # then
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
