"""Review finding B: the C2B copy of an ``unknown_payment`` receipt (an STK
success no payment had) naming a booking it can no longer confirm (expired,
its slot gone) sends that booking to ``refund_due``, and the receipt then
names it (``booking_not_payable``), as a plain confirmation's does: the
money is that booking's, to refund."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import Booking
from bookings.tests.factories import BookingFactory
from payments.models import MpesaReceipt
from payments.tests.test_c2b_unknown_claim_race_pg import (
    AMOUNT,
    RECEIPT,
    _c2b_copy,
    _unknown_payment_receipt,
)

pytestmark = pytest.mark.django_db
Reason = MpesaReceipt.UnallocatedReason


def _expired_with_its_slot_gone() -> Booking:
    booking = BookingFactory(amount=AMOUNT)
    Booking.objects.filter(pk=booking.pk).update(
        status="expired", expires_at=timezone.now() - timedelta(minutes=1)
    )
    BookingFactory(advocate=booking.advocate, start=booking.start)
    return booking


def test_copy_of_unknown_payment_for_a_booking_gone_names_it_refund_due():
    # given
    _unknown_payment_receipt()
    booking = _expired_with_its_slot_gone()
    # when
    _c2b_copy(booking)()
    # then
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == ("expired", "refund_due")
    receipt = MpesaReceipt.objects.get(receipt_number=RECEIPT)
    assert receipt.allocation == MpesaReceipt.Allocation.UNALLOCATED
    assert receipt.unallocated_reason == Reason.BOOKING_NOT_PAYABLE
    assert (receipt.booking_id, receipt.payment_id) == (booking.pk, None)
    assert receipt.sightings.count() == 2


def test_copy_of_unknown_payment_for_another_amount_leaves_it_unknown():
    # given: the copy says KES 2,000, the receipt KES 3,000
    _unknown_payment_receipt()
    booking = _expired_with_its_slot_gone()
    Booking.objects.filter(pk=booking.pk).update(amount=2000)
    # when
    _c2b_copy(booking, amount="2000.00")()
    # then: nothing claimed (the amount on record never changes)
    receipt = MpesaReceipt.objects.get(receipt_number=RECEIPT)
    assert receipt.unallocated_reason == Reason.UNKNOWN_PAYMENT
    assert receipt.booking_id is None
    booking.refresh_from_db()
    assert booking.payment_status == "unpaid"


def test_copy_of_unknown_payment_already_marked_for_refund_pays_nothing():
    # given
    receipt = _unknown_payment_receipt()
    MpesaReceipt.objects.filter(pk=receipt.pk).update(refund_marked_at=timezone.now())
    booking = BookingFactory(amount=AMOUNT)
    # when
    _c2b_copy(booking)()
    # then
    booking.refresh_from_db()
    assert booking.payment_status == "unpaid"
    receipt.refresh_from_db()
    assert (receipt.booking_id, receipt.unallocated_reason) == (
        None,
        Reason.UNKNOWN_PAYMENT,
    )
    assert receipt.sightings.count() == 2
