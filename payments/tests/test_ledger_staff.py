"""Staff actions on unallocated money: allocate to a booking, mark for
refund (``payments.services.ledger``, the "# Staff" part)."""

import pytest

from bookings.models import Booking
from bookings.tests.factories import BookingFactory, UserFactory
from payments.exceptions import ReceiptActionRefused
from payments.models import MpesaReceipt, MpesaReceiptSighting, PaymentEvent
from payments.services.ledger_staff import (
    receipt_allocate_to_booking,
    receipt_mark_for_refund,
)
from payments.tests.factories import PaymentFactory
from payments.tests.ledger_support import allocated_receipt, paybill_receipt

pytestmark = pytest.mark.django_db
Allocation = MpesaReceipt.Allocation


def _allocate(receipt, reference, actor=None, note="Client called, sent SMS"):
    return receipt_allocate_to_booking(
        receipt_id=receipt.pk,
        booking_reference=reference,
        actor=actor or UserFactory(staff=True),
        note=note,
    )


def _nothing_written(receipt: MpesaReceipt, booking: Booking) -> None:
    receipt.refresh_from_db()
    assert receipt.allocation == Allocation.UNALLOCATED
    assert receipt.booking_id is None
    assert receipt.sightings.count() == 1
    assert not PaymentEvent.objects.filter(kind=PaymentEvent.Kind.STAFF_ACTION)
    status = Booking.objects.values_list("status", "payment_status").get(pk=booking.pk)
    assert status == (booking.status, booking.payment_status)


def test_allocate_confirms_and_pays_the_booking_and_audits():
    # given
    receipt = paybill_receipt()
    booking = BookingFactory(amount=3000)
    staff = UserFactory(staff=True, username="wanjiku")

    # when: typed loosely, as staff would from a phone call
    _allocate(
        receipt, f" {booking.reference[:4].lower()}-{booking.reference[4:]} ", staff
    )

    # then
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.payment_status == Booking.PaymentStatus.PAID
    receipt.refresh_from_db()
    assert receipt.allocation == Allocation.ALLOCATED
    assert receipt.unallocated_reason == ""
    assert receipt.booking_id == booking.pk
    staff_sighting = receipt.sightings.get(source=MpesaReceiptSighting.Source.STAFF)
    event = staff_sighting.event
    assert event.kind == PaymentEvent.Kind.STAFF_ACTION
    assert event.actor == staff
    assert "Client called, sent SMS" in event.reason
    assert booking.reference in event.reason
    assert receipt.sightings.count() == 2


@pytest.mark.parametrize(
    "booking_traits",
    [
        {"confirmed": True},
        {"cancelled": True},
        {"expired": True},
        {"stale_hold": True},
    ],
)
def test_allocate_refuses_a_booking_not_awaiting_payment(booking_traits):
    # given
    receipt = paybill_receipt()
    booking = BookingFactory(amount=3000, **booking_traits)

    # when
    with pytest.raises(ReceiptActionRefused) as refused:
        _allocate(receipt, booking.reference)

    # then
    assert refused.value.message.startswith(f"Booking {booking.reference}: ")
    _nothing_written(receipt, booking)


def test_allocate_refuses_a_different_amount():
    # given
    receipt = paybill_receipt(amount=2500)
    booking = BookingFactory(amount=3000)

    # when
    with pytest.raises(ReceiptActionRefused) as refused:
        _allocate(receipt, booking.reference)

    # then
    assert refused.value.message == (
        f"Booking {booking.reference} owes KES 3,000; receipt TLK3AB12CD is KES 2,500."
    )
    _nothing_written(receipt, booking)


def test_allocate_refuses_an_unknown_reference():
    # given
    receipt = paybill_receipt()
    booking = BookingFactory()

    # when
    with pytest.raises(ReceiptActionRefused) as refused:
        _allocate(receipt, "HYZZZZZZ")

    # then
    assert refused.value.message == "No booking has the reference HYZZZZZZ."
    _nothing_written(receipt, booking)


def test_allocate_refuses_text_that_is_no_reference():
    # given
    receipt = paybill_receipt()
    booking = BookingFactory()

    # when
    with pytest.raises(ReceiptActionRefused) as refused:
        _allocate(receipt, "HY0OO1IL")

    # then
    assert "is not a booking reference" in refused.value.message
    _nothing_written(receipt, booking)


def test_allocate_refuses_a_receipt_already_allocated():
    # given
    payment = PaymentFactory(completed=True)
    receipt = allocated_receipt("NLJ7RT61SV", payment=payment)
    other = BookingFactory(amount=payment.amount)

    # when
    with pytest.raises(ReceiptActionRefused) as refused:
        _allocate(receipt, other.reference)

    # then
    assert refused.value.message == (
        f"Receipt NLJ7RT61SV is already allocated "
        f"(booking {payment.booking.reference})."
    )
    other.refresh_from_db()
    assert other.payment_status == Booking.PaymentStatus.UNPAID
    assert not PaymentEvent.objects.filter(kind=PaymentEvent.Kind.STAFF_ACTION)


def test_allocate_refuses_while_an_stk_prompt_is_open_for_the_booking():
    # given: the client's own push may still be paid
    receipt = paybill_receipt()
    payment = PaymentFactory(booking=BookingFactory(amount=3000))

    # when
    with pytest.raises(ReceiptActionRefused) as refused:
        _allocate(receipt, payment.booking.reference)

    # then
    assert f"(payment {payment.pk})" in refused.value.message
    _nothing_written(receipt, payment.booking)


def test_allocate_refuses_a_receipt_marked_for_refund():
    # given
    receipt = paybill_receipt()
    receipt_mark_for_refund(
        receipt_id=receipt.pk, actor=UserFactory(staff=True), note="wrong shop"
    )
    booking = BookingFactory(amount=3000)

    # when
    with pytest.raises(ReceiptActionRefused) as refused:
        _allocate(receipt, booking.reference)

    # then
    assert "was marked for refund" in refused.value.message
    booking.refresh_from_db()
    assert booking.payment_status == Booking.PaymentStatus.UNPAID


def test_allocate_needs_a_note():
    # given
    receipt = paybill_receipt()
    booking = BookingFactory(amount=3000)

    # when
    with pytest.raises(ReceiptActionRefused):
        _allocate(receipt, booking.reference, note="   ")

    # then
    _nothing_written(receipt, booking)


def test_mark_for_refund_records_who_and_keeps_the_allocation():
    # given
    receipt = paybill_receipt()
    staff = UserFactory(staff=True, username="otieno")

    # when
    receipt_mark_for_refund(receipt_id=receipt.pk, actor=staff, note="Paid twice")

    # then
    receipt.refresh_from_db()
    assert receipt.refund_marked_at is not None
    assert receipt.refund_marked_by == staff
    assert receipt.allocation == Allocation.UNALLOCATED
    assert receipt.sightings.count() == 1
    event = PaymentEvent.objects.get(kind=PaymentEvent.Kind.STAFF_ACTION)
    assert event.actor == staff
    assert event.reason == (
        "Receipt TLK3AB12CD (KES 3,000) marked for refund by staff: Paid twice"
    )


def test_mark_for_refund_refuses_an_allocated_receipt():
    # given
    receipt = allocated_receipt("NLJ7RT61SV", payment=PaymentFactory(completed=True))

    # when
    with pytest.raises(ReceiptActionRefused):
        receipt_mark_for_refund(
            receipt_id=receipt.pk, actor=UserFactory(staff=True), note="x"
        )

    # then
    receipt.refresh_from_db()
    assert receipt.refund_marked_at is None
    assert not PaymentEvent.objects.filter(kind=PaymentEvent.Kind.STAFF_ACTION)


def test_mark_for_refund_twice_is_refused_the_second_time():
    # given
    receipt = paybill_receipt()
    first, second = UserFactory(staff=True), UserFactory(staff=True)
    receipt_mark_for_refund(receipt_id=receipt.pk, actor=first, note="one")

    # when
    with pytest.raises(ReceiptActionRefused):
        receipt_mark_for_refund(receipt_id=receipt.pk, actor=second, note="two")

    # then
    receipt.refresh_from_db()
    assert receipt.refund_marked_by == first
    assert PaymentEvent.objects.filter(kind=PaymentEvent.Kind.STAFF_ACTION).count() == 1
