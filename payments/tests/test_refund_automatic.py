"""Refunds requested automatically for money a booking owes back."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import Booking
from bookings.services import booking_cancel
from bookings.tests.factories import BookingFactory
from payments.models import MpesaReceipt, Refund
from payments.services.refund_automatic import refunds_request_due
from payments.services.refunds import refund_reject
from payments.services.system_user import refund_system_user
from payments.tasks import refunds_request_due_task
from payments.tests.factories import PaymentFactory
from payments.tests.ledger_support import allocated_receipt, paybill_receipt
from payments.tests.refund_support import staff_in

pytestmark = pytest.mark.django_db


def _paid_booking_cancelled(hours_before: float, number: str) -> MpesaReceipt:
    """A booking paid by STK, cancelled by its client ``hours_before`` it
    starts (through the real cancellation)."""
    booking = BookingFactory(
        confirmed=True, start=timezone.now() + timedelta(hours=hours_before)
    )
    booking.end = booking.start + timedelta(minutes=30)
    booking.save(update_fields=["end"])
    receipt = allocated_receipt(
        number, payment=PaymentFactory(booking=booking, completed=True)
    )
    booking_cancel(booking_id=booking.pk, actor=booking.client)
    return receipt


def test_an_early_cancellation_gets_its_whole_refund_requested_by_the_system():
    receipt = _paid_booking_cancelled(48, "TLK8AUTO01")
    assert refunds_request_due().requested == 1
    refund = Refund.objects.get()
    assert (refund.receipt, refund.amount, refund.method, refund.reason) == (
        receipt,
        3000,
        Refund.Method.REVERSAL,
        Refund.Reason.CANCELLED,
    )
    assert refund.requested_by == refund_system_user()
    assert refund.status == Refund.Status.REQUESTED
    assert refund.booking.status == Booking.Status.CANCELLED


def test_a_late_cancellation_is_left_to_staff(settings):
    settings.REFUND_FULL_IF_CANCELLED_HOURS_BEFORE = 24
    _paid_booking_cancelled(23, "TLK8AUTO02")
    assert refunds_request_due().requested == 0
    settings.REFUND_FULL_IF_CANCELLED_HOURS_BEFORE = 12
    assert refunds_request_due().requested == 1


def test_money_that_came_after_the_booking_ended_goes_back():
    booking = BookingFactory(expired=True, payment_status="refund_due")
    receipt = paybill_receipt(
        "TLK8AUTO03",
        account=booking.reference,
        reason=MpesaReceipt.UnallocatedReason.BOOKING_NOT_PAYABLE,
    )
    MpesaReceipt.objects.filter(pk=receipt.pk).update(booking=booking)
    assert refunds_request_due().requested == 1
    refund = Refund.objects.get()
    assert (refund.reason, refund.booking) == (Refund.Reason.PAID_TOO_LATE, booking)
    receipt.refresh_from_db()
    assert receipt.refund_marked_at is not None


def test_reruns_never_request_twice_and_a_rejection_stands():
    _paid_booking_cancelled(48, "TLK8AUTO04")
    assert refunds_request_due().requested == 1
    assert refunds_request_due().requested == 0
    refund = Refund.objects.get()
    refund_reject(
        refund_id=refund.pk, actor=staff_in("Finance"), note="client rebooked instead"
    )
    assert refunds_request_due().requested == 0
    assert Refund.objects.count() == 1


def test_unpaid_or_still_paid_bookings_owe_nothing():
    booking = BookingFactory(confirmed=True)
    allocated_receipt(
        "TLK8AUTO05", payment=PaymentFactory(booking=booking, completed=True)
    )
    unpaid = BookingFactory()
    booking_cancel(booking_id=unpaid.pk, actor=unpaid.client)
    paybill_receipt("TLK8AUTO06")
    assert refunds_request_due().requested == 0


def test_the_beat_task_runs_the_sweep():
    _paid_booking_cancelled(72, "TLK8AUTO07")
    assert refunds_request_due_task.apply().get() == {"requested": 1, "refused": 0}
