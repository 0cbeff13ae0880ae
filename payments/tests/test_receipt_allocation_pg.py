"""Two staff allocate one receipt at once, on PostgreSQL where row locks
are real: one wins, the other is refused, nothing is paid twice."""

import pytest

from bookings.models import Booking
from bookings.tests.factories import BookingFactory, UserFactory
from core.tests.concurrency import run_at_once
from payments.exceptions import ReceiptActionRefused
from payments.models import MpesaReceipt, MpesaReceiptSighting, PaymentEvent
from payments.services.ledger_staff import (
    receipt_allocate_to_booking,
    receipt_mark_for_refund,
)
from payments.tests.ledger_support import paybill_receipt

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _allocator(receipt: MpesaReceipt, booking: Booking):
    staff = UserFactory(staff=True)

    def allocate() -> None:
        receipt_allocate_to_booking(
            receipt_id=receipt.pk,
            booking_reference=booking.reference,
            actor=staff,
            note="client called",
        )

    return allocate


def test_two_staff_allocating_one_receipt_to_two_bookings_one_wins():
    # given
    receipt = paybill_receipt()
    first = BookingFactory(amount=3000)
    second = BookingFactory(amount=3000, start=first.start.replace(hour=12))

    # when
    errors = run_at_once(_allocator(receipt, first), _allocator(receipt, second))

    # then
    assert len(errors) == 1
    assert isinstance(errors[0], ReceiptActionRefused)
    assert "already allocated" in errors[0].message
    receipt.refresh_from_db()
    assert receipt.allocation == MpesaReceipt.Allocation.ALLOCATED
    paid = Booking.objects.filter(
        pk__in=[first.pk, second.pk], payment_status=Booking.PaymentStatus.PAID
    )
    assert list(paid.values_list("pk", flat=True)) == [receipt.booking_id]
    staff = receipt.sightings.filter(source=MpesaReceiptSighting.Source.STAFF)
    assert staff.count() == 1
    assert PaymentEvent.objects.filter(kind=PaymentEvent.Kind.STAFF_ACTION).count() == 1


def test_two_receipts_allocated_to_one_booking_at_once_pay_it_once():
    # given
    one = paybill_receipt("TLK3AB12CD")
    two = paybill_receipt("TLK3AB13CD")
    booking = BookingFactory(amount=3000)

    # when
    errors = run_at_once(_allocator(one, booking), _allocator(two, booking))

    # then
    assert len(errors) == 1
    assert "only bookings pending payment can be paid" in errors[0].message
    allocated = MpesaReceipt.objects.filter(
        allocation=MpesaReceipt.Allocation.ALLOCATED, booking=booking
    )
    assert allocated.count() == 1


def test_allocating_while_another_marks_for_refund_does_one_of_them():
    # given
    receipt = paybill_receipt()
    booking = BookingFactory(amount=3000)
    staff = UserFactory(staff=True)

    def mark() -> None:
        receipt_mark_for_refund(receipt_id=receipt.pk, actor=staff, note="refund")

    # when
    errors = run_at_once(_allocator(receipt, booking), mark)

    # then
    assert len(errors) == 1
    receipt.refresh_from_db()
    allocated = receipt.allocation == MpesaReceipt.Allocation.ALLOCATED
    assert allocated != (receipt.refund_marked_at is not None)
