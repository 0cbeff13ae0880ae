"""The metrics move with what the application does: a push through the
real Daraja adapter (HTTP replaced by ``responses``), its callback, and the
database gauges read at scrape time."""

import json
from datetime import timedelta

import pytest
import requests
import responses
from django.db import transaction
from django.utils import timezone

from bookings.tests.factories import BookingFactory, UserFactory
from observability.tests.conftest import family_names, sample, scrape
from payments.daraja.transport import HttpRequest, send
from payments.models import Payment, Refund
from payments.services.transitions import lock_payment, move
from payments.tests.conftest import c2b_url, callback_url
from payments.tests.daraja.support import PAYLOADS
from payments.tests.factories import PaymentFactory
from payments.tests.ledger_support import paybill_receipt
from payments.tests.payloads import as_bytes, c2b_request, success_callback

pytestmark = pytest.mark.django_db
Status = Payment.Status
BASE = "https://sandbox.safaricom.co.ke"
PUSH = f"{BASE}/mpesa/stkpush/v1/processrequest"


@pytest.fixture
def real_daraja(daraja_settings, monkeypatch):
    """The real adapter against an intercepted sandbox; no follow-up query."""
    daraja_settings.MPESA_BASE_URL = BASE
    monkeypatch.setattr(
        "payments.services.transitions.schedule_payment_query",
        lambda **kwargs: None,
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{BASE}/oauth/v1/generate", json=_payload("oauth_success"))
        mock.post(PUSH, json=_payload("stk_push_accepted"))
        yield mock


def _payload(name: str) -> dict:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def _push(api_client, booking):
    api_client.force_authenticate(booking.client)
    body = {"phone_number": "0708374149", "booking_id": booking.pk}
    return api_client.post("/api/payment/mpesa/stk-push", body, format="json")


def test_push_and_callback_move_the_counters(
    client, api_client, real_daraja, django_capture_on_commit_callbacks
):
    # given
    booking = BookingFactory(amount=3000)
    before = scrape(client)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = _push(api_client, booking)
        checkout_id = response.json()["CheckoutRequestID"]
        client.generic(
            "POST",
            callback_url(),
            as_bytes(success_callback(checkout_id)),
            content_type="application/json",
        )
    after = scrape(client)

    # then
    def grew(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert response.status_code == 201
    assert grew("hakiyetu_payments_total", status="initiated") == 1
    assert grew("hakiyetu_payments_total", status="pending") == 1
    assert grew("hakiyetu_payments_total", status="completed") == 1
    assert grew("hakiyetu_callbacks_total", kind="stk", disposition="applied") == 1
    assert grew("hakiyetu_daraja_requests_total", api="stk_push", outcome="ok") == 1
    assert grew("hakiyetu_daraja_request_seconds_count", api="stk_push") == 1
    assert grew("hakiyetu_payment_settle_seconds_count") == 1


def test_every_named_metric_is_exposed(client):
    # given
    PaymentFactory()
    # when
    body = scrape(client)
    # then
    assert {
        "hakiyetu_payments",
        "hakiyetu_callbacks",
        "hakiyetu_daraja_requests",
        "hakiyetu_daraja_request_seconds",
        "hakiyetu_payment_settle_seconds",
        "hakiyetu_payments_open",
        "hakiyetu_oldest_open_payment_seconds",
        "hakiyetu_receipts_unallocated",
    } <= family_names(body)


def test_a_rolled_back_move_counts_nothing(client, django_capture_on_commit_callbacks):
    # given
    payment = PaymentFactory()
    before = sample(scrape(client), "hakiyetu_payments_total", status="expired")
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _move_then_roll_back(payment)
    # then
    after = sample(scrape(client), "hakiyetu_payments_total", status="expired")
    assert after == before
    assert callbacks == []


def _move_then_roll_back(payment: Payment) -> None:
    try:
        with transaction.atomic():
            move(lock_payment(payment_id=payment.pk), to=Status.EXPIRED, reason="t")
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass


def test_open_payment_gauges_follow_the_database(client):
    # given
    PaymentFactory.create_batch(2)
    PaymentFactory(initiated=True)
    PaymentFactory(needs_review=True)
    PaymentFactory(completed=True)
    old = PaymentFactory()
    Payment.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )
    # when
    body = scrape(client)
    # then
    assert sample(body, "hakiyetu_payments_open", status="pending") == 3
    assert sample(body, "hakiyetu_payments_open", status="initiated") == 1
    assert sample(body, "hakiyetu_payments_open", status="needs_review") == 1
    assert sample(body, "hakiyetu_oldest_open_payment_seconds") >= 600


def test_no_open_payment_reports_an_oldest_age_of_zero(client):
    # given
    PaymentFactory(completed=True)
    # when
    body = scrape(client)
    # then
    assert sample(body, "hakiyetu_oldest_open_payment_seconds") == 0


def test_unallocated_receipts_are_counted(client):
    # given: a Paybill payment naming no booking
    paybill_receipt()
    # when
    body = scrape(client)
    # then
    assert sample(body, "hakiyetu_receipts_unallocated") == 1


def test_refunds_open_appears_only_when_refunds_exist(client):
    # given no refund
    # when
    body = scrape(client)
    # then
    assert "hakiyetu_refunds_open" not in family_names(body)


def test_refunds_open_counts_refunds_by_status(client):
    # given
    Refund.objects.create(
        receipt=paybill_receipt(),
        amount=3000,
        method=Refund.Method.REVERSAL,
        reason=Refund.Reason.UNKNOWN_ACCOUNT,
        requested_by=UserFactory(),
    )
    # when
    body = scrape(client)
    # then
    assert sample(body, "hakiyetu_refunds_open", status="requested") == 1
    assert sample(body, "hakiyetu_refunds_open", status="unknown") == 0


def test_a_c2b_confirmation_is_counted_with_its_allocation(client):
    # given
    before = scrape(client)
    # when
    client.generic(
        "POST",
        c2b_url("confirmation"),
        as_bytes(c2b_request(account="HYNOSUCH9")),
        content_type="application/json",
    )
    # then
    after = scrape(client)
    labels = {"kind": "c2b_confirmation", "disposition": "unallocated"}
    grown = sample(after, "hakiyetu_callbacks_total", **labels) - sample(
        before, "hakiyetu_callbacks_total", **labels
    )
    assert grown == 1


def test_a_malformed_stk_callback_is_counted_as_malformed(client):
    # given
    labels = {"kind": "stk", "disposition": "malformed"}
    before = sample(scrape(client), "hakiyetu_callbacks_total", **labels)
    # when
    response = client.generic(
        "POST", callback_url(), b"not json", content_type="application/json"
    )
    # then
    assert response.status_code == 400
    after = sample(scrape(client), "hakiyetu_callbacks_total", **labels)
    assert after - before == 1


@pytest.mark.parametrize(
    ("failure", "outcome"),
    [
        (requests.ReadTimeout("slow"), "timeout"),
        (requests.ConnectionError("refused"), "connection_error"),
    ],
)
def test_daraja_transport_failures_are_counted_by_outcome(client, failure, outcome):
    # given
    labels = {"api": "stk_query", "outcome": outcome}
    before = sample(scrape(client), "hakiyetu_daraja_requests_total", **labels)
    request = HttpRequest("stk_query", "POST", f"{BASE}/q", timeout=(1, 1), json={})
    # when
    with responses.RequestsMock() as mock:
        mock.post(f"{BASE}/q", body=failure)
        with pytest.raises(Exception):  # noqa: B017, PT011  (mapped by the adapter)
            send(requests.Session(), request, None)
    # then
    after = sample(scrape(client), "hakiyetu_daraja_requests_total", **labels)
    assert after - before == 1


def test_a_daraja_error_answer_is_counted_as_http_error(client):
    # given
    labels = {"api": "stk_query", "outcome": "http_error"}
    before = sample(scrape(client), "hakiyetu_daraja_requests_total", **labels)
    request = HttpRequest("stk_query", "POST", f"{BASE}/q", timeout=(1, 1), json={})
    # when
    with responses.RequestsMock() as mock:
        mock.post(f"{BASE}/q", status=503, json={"errorCode": "503.001.01"})
        send(requests.Session(), request, None)
    # then
    after = sample(scrape(client), "hakiyetu_daraja_requests_total", **labels)
    assert after - before == 1
