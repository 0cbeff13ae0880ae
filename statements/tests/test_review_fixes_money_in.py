"""Review fixes, money paid in: a payment in review for a receipt-less
success settles on M-Pesa's row (fix 1); a definite failure M-Pesa shows
paid goes to review (fix 2)."""

import pytest

from bookings.models import Booking
from bookings.tests.factories import UserFactory
from payments.models import MpesaReceipt, Payment
from payments.services.transitions import payment_resolve
from payments.tests.conftest import callback_url
from payments.tests.factories import PaymentFactory
from payments.tests.payloads import as_bytes, success_callback
from statements.models import StatementLine
from statements.tests.support import paid_in

pytestmark = pytest.mark.django_db
Outcome = StatementLine.Outcome
Status = Payment.Status
ReviewCode = Payment.ReviewCode


def _callback_without_receipt(checkout_request_id: str) -> bytes:
    body = success_callback(checkout_request_id)
    items = body["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    items[:] = [item for item in items if item["Name"] != "MpesaReceiptNumber"]
    return as_bytes(body)


def _assert_paid_once_by(payment: Payment, receipt_number: str) -> None:
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert payment.mpesa_receipt_number == receipt_number
    completions = payment.events.filter(kind="status_change", to_status="completed")
    assert completions.count() == 1
    booking = Booking.objects.get(pk=payment.booking_id)
    assert booking.payment_status == Booking.PaymentStatus.PAID
    receipts = MpesaReceipt.objects.filter(booking_id=booking.pk)
    assert list(receipts.values_list("receipt_number", "payment_id")) == [
        (receipt_number, payment.pk)
    ]
    assert MpesaReceipt.objects.count() == 1


def test_receipt_missing_review_settles_on_the_statement_row(import_rows, client):
    # given: the callback said paid but carried no receipt
    payment = PaymentFactory()
    response = client.generic(
        "POST",
        callback_url(),
        _callback_without_receipt(payment.checkout_request_id),
        content_type="application/json",
    )
    assert response.status_code == 200
    payment.refresh_from_db()
    assert (payment.status, payment.review_code) == (
        Status.NEEDS_REVIEW,
        ReviewCode.RECEIPT_MISSING,
    )
    # when
    record = import_rows(paid_in("TLK1RMIS01", account=payment.booking.reference))
    # then
    line = StatementLine.objects.get(receipt_number="TLK1RMIS01")
    assert (line.outcome, line.payment_id) == (Outcome.RECOVERED, payment.pk)
    _assert_paid_once_by(payment, "TLK1RMIS01")
    assert record.summary["allocated"] == 0
    assert record.summary["recovered"] == 1


@pytest.mark.parametrize("code", [ReviewCode.RECEIPT_INVALID, ReviewCode.CONTRADICTED])
def test_receipt_less_review_settles_on_the_statement_row(import_rows, code):
    # given: in review for a success report with no usable receipt
    payment = PaymentFactory(needs_review=True, review_code=code)
    # when
    import_rows(paid_in("TLK1RINV01", account=payment.booking.reference))
    # then
    line = StatementLine.objects.get(receipt_number="TLK1RINV01")
    assert (line.outcome, line.payment_id) == (Outcome.RECOVERED, payment.pk)
    _assert_paid_once_by(payment, "TLK1RINV01")


def test_receipt_less_review_of_a_paid_booking_gets_the_receipt_only(import_rows):
    # given: completed by a query, then a receipt-less callback sent it to
    # review: its booking is paid already
    payment = PaymentFactory(completed=True, mpesa_receipt_number=None)
    Booking.objects.filter(pk=payment.booking_id).update(
        status=Booking.Status.CONFIRMED, payment_status=Booking.PaymentStatus.PAID
    )
    payment.events.create(kind="status_change", to_status=Status.COMPLETED)
    Payment.objects.filter(pk=payment.pk).update(
        status=Status.NEEDS_REVIEW, review_code=ReviewCode.RECEIPT_MISSING
    )
    # when
    import_rows(paid_in("TLK1RPAI01", account=payment.booking.reference))
    # then: one receipt, on the payment; the booking not paid again
    payment.refresh_from_db()
    assert payment.mpesa_receipt_number == "TLK1RPAI01"
    receipt = MpesaReceipt.objects.get()
    assert (receipt.payment_id, receipt.allocation) == (payment.pk, "allocated")


@pytest.mark.parametrize("result_code", ["1032", "1", "2001"])
def test_definite_failure_the_statement_shows_paid_goes_to_review(
    import_rows, result_code
):
    # given: M-Pesa said the push failed for certain
    payment = PaymentFactory(failed=True, result_code=result_code)
    # when
    record = import_rows(paid_in("TLK1DEFI01", account=payment.booking.reference))
    # then: a discrepancy naming the payment, which is in review
    line = StatementLine.objects.get(receipt_number="TLK1DEFI01")
    assert (line.outcome, line.payment_id) == (Outcome.UNALLOCATED, payment.pk)
    assert f"payment {payment.pk}" in line.detail
    assert result_code in line.detail
    payment.refresh_from_db()
    assert (payment.status, payment.review_code) == (
        Status.NEEDS_REVIEW,
        ReviewCode.CONTRADICTED,
    )
    booking = Booking.objects.get(pk=payment.booking_id)
    assert booking.payment_status == Booking.PaymentStatus.UNPAID
    receipt = MpesaReceipt.objects.get()
    assert (receipt.allocation, receipt.unallocated_reason) == (
        "unallocated",
        "unknown_payment",
    )
    assert record.summary["allocated"] == 0
    found = record.summary["discrepancies"]
    assert [(item["line_id"], item["payment_id"]) for item in found] == [
        (line.pk, payment.pk)
    ]


def test_definite_failure_review_counts_the_money_once_on_import_again(import_rows):
    # given
    payment = PaymentFactory(failed=True)
    row = paid_in("TLK1DEFI02", account=payment.booking.reference)
    import_rows(row)
    # when: the same row in another file
    import_rows(row, paid_in("TLK1DEFI03", account="HYZZZZZ9"))
    # then
    assert MpesaReceipt.objects.filter(receipt_number="TLK1DEFI02").count() == 1
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW
    assert payment.events.filter(to_status=Status.NEEDS_REVIEW).count() == 1


def test_staff_completing_the_contradicted_payment_allocates_its_receipt(
    import_rows,
):
    # given: the statement sent the cancelled payment to review
    payment = PaymentFactory(failed=True)
    import_rows(paid_in("TLK1DEFI04", account=payment.booking.reference))
    # when: staff find it was paid after all
    payment_resolve(
        payment_id=payment.pk,
        to=Status.COMPLETED,
        note="statement shows it paid",
        actor=UserFactory(is_staff=True),
    )
    # then: the booking paid once, by this payment's one receipt
    _assert_paid_once_by(payment, "TLK1DEFI04")
