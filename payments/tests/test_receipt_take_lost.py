"""Review defect 1 on the repeat path (SQLite, one connection): a payment
completed without a receipt (an STK query) hears its receipt later; the
ledger held it unallocated, and staff allocated it to another booking
between the claim's plain read and the take. The payment goes to review
naming where the receipt went; the receipt stays there."""

import pytest

from bookings.models import Booking
from bookings.tests.factories import BookingFactory, UserFactory
from payments.daraja.callbacks import parse_stk_callback
from payments.models import Payment
from payments.services import settlement
from payments.services.ledger_staff import receipt_allocate_to_booking
from payments.services.reports import SuccessReport, success_report_from_callback
from payments.tests.factories import PaymentFactory
from payments.tests.ledger_support import paybill_receipt
from payments.tests.payloads import success_callback

pytestmark = pytest.mark.django_db
RECEIPT = "TLK3AB12CD"


def test_completed_payment_whose_receipt_staff_allocated_meanwhile_goes_to_review(
    monkeypatch,
):
    # given: completed by a query (no receipt); R unallocated in the ledger
    payment = PaymentFactory()
    settlement.payment_record_success(
        payment_id=payment.pk, report=SuccessReport(source="query")
    )
    receipt = paybill_receipt(RECEIPT, amount=payment.amount)
    other = BookingFactory(amount=payment.amount)
    real = settlement.receipt_claim_for_payment

    def staff_after_the_read(**kwargs):
        claim = real(**kwargs)
        receipt_allocate_to_booking(
            receipt_id=receipt.pk,
            booking_reference=other.reference,
            actor=UserFactory(staff=True),
            note="client called",
        )
        return claim

    monkeypatch.setattr(settlement, "receipt_claim_for_payment", staff_after_the_read)
    body = success_callback(payment.checkout_request_id, receipt=RECEIPT)

    # when: its callback comes
    settlement.payment_record_success(
        report=success_report_from_callback(parse_stk_callback(body)),
        checkout_request_id=payment.checkout_request_id,
    )

    # then
    payment.refresh_from_db()
    assert payment.status == Payment.Status.NEEDS_REVIEW
    assert payment.mpesa_receipt_number is None
    reason = payment.events.filter(to_status="needs_review").get().reason
    assert f"allocated to booking {other.reference}" in reason
    receipt.refresh_from_db()
    assert (receipt.booking_id, receipt.payment_id) == (other.pk, None)
    assert receipt.sightings.count() == 3  # c2b, staff, this callback
    paid = Booking.objects.filter(payment_status=Booking.PaymentStatus.PAID)
    assert set(paid.values_list("pk", flat=True)) == {payment.booking_id, other.pk}
