"""``query_pending`` racing callbacks and another copy of itself, on
PostgreSQL where row locks and SKIP LOCKED are real."""

import io

import pytest
from django.core.management import call_command
from django.test import Client

from bookings.models import Booking
from core.tests.concurrency import run_at_once
from payments.models import Payment, PaymentEvent
from payments.tests.conftest import callback_url
from payments.tests.factories import PaymentFactory
from payments.tests.fakes import query_answer
from payments.tests.payloads import as_bytes, success_callback

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
Status = Payment.Status


@pytest.fixture(autouse=True)
def _daraja_settings(daraja_settings):
    daraja_settings.MPESA_QUERY_RATE_PER_SECOND = 1000


def _query_pending() -> None:
    call_command(
        "query_pending",
        "--older-than=0",
        "--concurrency=4",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )


def _deliver_success(payment: Payment) -> None:
    body = as_bytes(
        success_callback(payment.checkout_request_id, receipt=f"NLJ{payment.pk:07d}")
    )
    response = Client().generic(
        "POST", callback_url(), body, content_type="application/json"
    )
    assert response.status_code == 200


def _completions(payment: Payment) -> int:
    return PaymentEvent.objects.filter(
        payment=payment,
        kind=PaymentEvent.Kind.STATUS_CHANGE,
        to_status=Status.COMPLETED,
    ).count()


@pytest.mark.parametrize("daraja_says", ["0", "1032"])
def test_callback_during_query_settles_payment_once(fake_daraja, daraja_says):
    # given: the success callback lands while our STK query is in flight
    payment = PaymentFactory()
    fake_daraja.query_result = query_answer(daraja_says)
    fake_daraja.on_query = lambda _: run_at_once(lambda: _deliver_success(payment))

    # when
    _query_pending()

    # then: completed once by the callback; a failure answer after that is
    # a contradiction that goes to review (issue 11, point 3), the money kept
    payment.refresh_from_db()
    expected = Status.COMPLETED if daraja_says == "0" else Status.NEEDS_REVIEW
    assert payment.status == expected
    assert payment.mpesa_receipt_number == f"NLJ{payment.pk:07d}"
    assert _completions(payment) == 1
    assert payment.booking.status == Booking.Status.CONFIRMED
    if daraja_says == "1032":
        assert payment.review_code == Payment.ReviewCode.FAILURE_AFTER_COMPLETION


def test_query_pending_and_callbacks_racing_complete_each_payment_once(fake_daraja):
    # given
    payments = PaymentFactory.create_batch(8)
    fake_daraja.query_result = query_answer("0")
    deliveries = [lambda p=p: _deliver_success(p) for p in payments]

    # when
    errors = run_at_once(_query_pending, *deliveries)

    # then
    assert errors == []
    for payment in payments:
        payment.refresh_from_db()
        assert payment.status == Status.COMPLETED
        assert _completions(payment) == 1
        assert payment.booking.status == Booking.Status.CONFIRMED


def test_two_copies_query_each_payment_once(fake_daraja):
    # given
    payments = PaymentFactory.create_batch(12)
    fake_daraja.query_result = query_answer(None)

    # when
    errors = run_at_once(_query_pending, _query_pending)

    # then
    assert errors == []
    assert sorted(fake_daraja.queries) == sorted(
        p.checkout_request_id for p in payments
    )
