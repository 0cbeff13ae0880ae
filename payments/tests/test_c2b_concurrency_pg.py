"""Issue 13, point 12: a C2B confirmation and an STK callback for one booking
at one moment, on PostgreSQL where row locks are real."""

import pytest
from django.test import Client

from bookings.models import Booking
from core.tests.concurrency import run_at_once
from payments.models import MpesaReceipt, Payment, PaymentEvent
from payments.tests.conftest import c2b_url, callback_url
from payments.tests.factories import PaymentFactory
from payments.tests.payloads import as_bytes, c2b_request, success_callback

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _post(url: str, payload: dict) -> None:
    response = Client().generic(
        "POST", url, as_bytes(payload), content_type="application/json"
    )
    assert response.status_code == 200


@pytest.mark.parametrize("attempt", range(5))
def test_confirmation_and_stk_callback_with_different_receipts_pay_once(attempt):
    # given: an open STK payment; its callback and a Paybill payment of the
    # same booking (another receipt) arrive together
    payment = PaymentFactory()
    booking = payment.booking

    def stk():
        body = success_callback(payment.checkout_request_id, receipt="STK0000001")
        _post(callback_url(), body)

    def c2b():
        _post(
            c2b_url("confirmation"),
            c2b_request(account=booking.reference, trans_id="C2B0000001"),
        )

    # when
    errors = run_at_once(stk, c2b)
    # then: the booking is paid once; the other money is a duplicate payment
    assert errors == []
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == ("confirmed", "paid")
    receipts = {r.receipt_number: r for r in MpesaReceipt.objects.all()}
    assert set(receipts) == {"STK0000001", "C2B0000001"}
    allocated = [r for r in receipts.values() if r.allocation == "allocated"]
    unallocated = [r for r in receipts.values() if r.allocation == "unallocated"]
    assert len(allocated) == len(unallocated) == 1
    assert unallocated[0].unallocated_reason == "duplicate_payment"
    payment.refresh_from_db()
    if allocated[0].receipt_number == "STK0000001":
        # the callback won: the payment completed, the Paybill money is extra
        assert payment.status == Payment.Status.COMPLETED
        assert allocated[0].payment_id == payment.pk
    else:
        # the confirmation won: the payment was closed, then its money came
        assert payment.status == Payment.Status.NEEDS_REVIEW
        assert payment.review_code == Payment.ReviewCode.BOOKING_ALREADY_PAID
    assert (
        PaymentEvent.objects.filter(payment=payment, to_status="completed").count() <= 1
    )
    assert Booking.objects.filter(pk=booking.pk, payment_status="paid").count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_double_notification_at_one_moment_is_one_receipt(attempt):
    # given: the same receipt by both channels at once
    payment = PaymentFactory()

    def stk():
        _post(callback_url(), success_callback(payment.checkout_request_id))

    def c2b():
        _post(
            c2b_url("confirmation"),
            c2b_request(account=payment.booking.reference, trans_id="NLJ7RT61SV"),
        )

    # when
    errors = run_at_once(stk, c2b)
    # then: one row, two sightings, the booking paid once
    assert errors == []
    receipt = MpesaReceipt.objects.get()
    assert receipt.sightings.count() == 2
    assert receipt.booking_id == payment.booking_id
    booking = Booking.objects.get(pk=payment.booking_id)
    assert booking.payment_status == "paid"
