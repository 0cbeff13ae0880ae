"""Review finding C: an STK success callback that was stored but failed to
apply, whose C2B copy (the same TransID) then reached the ledger first,
is applied again by ``reports_reapply_stored``: its payment learns its
money (completed as the receipt that paid its booking) instead of the
event being counted "already in the ledger" while the payment stays
``failed`` "paid by Paybill"."""

import pytest
from django.utils import timezone

from bookings.models import Booking
from payments.models import MpesaReceipt, Payment
from payments.services.reapply import reports_reapply_stored
from payments.tests.factories import PaymentFactory
from payments.tests.payloads import success_callback
from payments.tests.test_reapply_stored import later, stored_callback  # noqa: F401
from payments.tests.test_unknown_outcome_paid_elsewhere import RECEIPT, _c2b_copy
from payments.tests.test_unmatched_callbacks import timed_out_push, unknown_callback

pytestmark = pytest.mark.django_db
Status = Payment.Status


def _paid_at(payment: Payment) -> int:
    return int(timezone.localtime(payment.created_at).strftime("%Y%m%d%H%M%S"))


def _assert_completed_once_with_the_receipt(payment: Payment) -> None:
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert payment.mpesa_receipt_number == RECEIPT
    receipt = MpesaReceipt.objects.get()
    assert receipt.allocation == MpesaReceipt.Allocation.ALLOCATED
    assert (receipt.payment_id, receipt.booking_id) == (payment.pk, payment.booking_id)
    assert receipt.channel == MpesaReceipt.Channel.STK
    sources = sorted(receipt.sightings.values_list("source", flat=True))
    assert sources == ["c2b_confirmation", "stk_callback"]
    booking = Booking.objects.get(pk=payment.booking_id)
    assert (booking.status, booking.payment_status) == ("confirmed", "paid")


def test_reapplied_callback_completes_the_payment_its_c2b_copy_closed(later):  # noqa: F811
    # given: P's success callback is stored, its apply failed; then the C2B
    # copy paid the booking and closed P ("paid by Paybill")
    payment = PaymentFactory()
    stored_callback(
        success_callback(
            payment.checkout_request_id,
            receipt=RECEIPT,
            amount=float(payment.amount),
            transaction_date=_paid_at(payment),
        )
    )
    _c2b_copy(payment)
    payment.refresh_from_db()
    assert payment.status == Status.FAILED
    later()
    # when
    summary = reports_reapply_stored()
    # then
    assert (summary.applied, summary.already_in_ledger) == (1, 0)
    _assert_completed_once_with_the_receipt(payment)


def test_reapplied_unknown_callback_completes_the_push_its_c2b_copy_closed(
    later,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    # given: a push of unknown outcome; its callback (an id we never
    # learned) is stored and failed to apply; its C2B copy paid the booking
    payment = timed_out_push()
    stored_callback(unknown_callback(payment, receipt=RECEIPT))
    _c2b_copy(payment)
    later()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        summary = reports_reapply_stored()
    # then
    assert summary.applied == 1
    _assert_completed_once_with_the_receipt(payment)


def test_reapplying_after_the_copy_twice_changes_nothing_more(later):  # noqa: F811
    # given: as above, applied once already
    payment = PaymentFactory()
    stored_callback(
        success_callback(
            payment.checkout_request_id,
            receipt=RECEIPT,
            amount=float(payment.amount),
            transaction_date=_paid_at(payment),
        )
    )
    _c2b_copy(payment)
    later()
    reports_reapply_stored()
    # when
    second = reports_reapply_stored()
    # then
    assert second.examined == 0
    _assert_completed_once_with_the_receipt(payment)


def test_callback_of_a_payment_holding_its_receipt_is_already_in_the_ledger(
    later,  # noqa: F811
):
    # given: P took R; a second stored copy of its callback never applied
    payment = PaymentFactory(completed=True, mpesa_receipt_number=RECEIPT)
    from payments.tests.ledger_support import allocated_receipt

    allocated_receipt(RECEIPT, payment=payment)
    stored_callback(success_callback(payment.checkout_request_id, receipt=RECEIPT))
    later()
    # when
    summary = reports_reapply_stored()
    # then
    assert (summary.applied, summary.already_in_ledger) == (0, 1)
