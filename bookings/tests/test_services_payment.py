from datetime import timedelta

import pytest

from bookings.exceptions import BookingNotPayable
from bookings.models import Booking
from bookings.services import (
    BookingPaymentOutcome,
    booking_assert_payable,
    booking_mark_paid,
)
from bookings.tests.clock import at
from bookings.tests.factories import BookingFactory

pytestmark = pytest.mark.django_db

Status = Booking.Status
PaymentStatus = Booking.PaymentStatus


def _reloaded(booking: Booking) -> Booking:
    booking.refresh_from_db()
    return booking


def test_booking_assert_payable_accepts_a_held_unpaid_booking(frozen_now):
    # given
    booking = BookingFactory()
    # when / then
    assert booking_assert_payable(booking=booking) is None


@pytest.mark.parametrize(
    "traits",
    [
        {"stale_hold": True},
        {"expired": True},
        {"confirmed": True},
        {"cancelled": True},
        {"payment_status": PaymentStatus.PAID},
    ],
)
def test_booking_assert_payable_refuses_anything_else(frozen_now, traits):
    # given
    booking = BookingFactory(**traits)
    # when / then
    with pytest.raises(BookingNotPayable) as caught:
        booking_assert_payable(booking=booking)
    assert caught.value.status_code == 409
    assert caught.value.code == "booking_not_payable"


def test_booking_mark_paid_confirms_a_pending_booking(frozen_now):
    # given
    booking = BookingFactory()
    # when
    outcome = booking_mark_paid(booking_id=booking.pk)
    # then
    assert outcome is BookingPaymentOutcome.CONFIRMED
    booking = _reloaded(booking)
    assert (booking.status, booking.payment_status) == ("confirmed", "paid")


def test_booking_mark_paid_confirms_a_pending_booking_past_its_hold(frozen_now):
    # given: the expiry task has not run yet, so nobody else has the slot
    booking = BookingFactory(stale_hold=True)
    # when / then
    assert booking_mark_paid(booking_id=booking.pk) is BookingPaymentOutcome.CONFIRMED


def test_booking_mark_paid_reconfirms_an_expired_booking_when_the_slot_is_free(
    frozen_now,
):
    # given
    booking = BookingFactory(expired=True)
    # when
    outcome = booking_mark_paid(booking_id=booking.pk)
    # then
    assert outcome is BookingPaymentOutcome.CONFIRMED
    booking = _reloaded(booking)
    assert (booking.status, booking.payment_status) == ("confirmed", "paid")


def test_booking_mark_paid_reconfirms_over_a_stale_hold_of_someone_else(frozen_now):
    # given
    booking = BookingFactory(expired=True, start=at(10))
    other = BookingFactory(advocate=booking.advocate, start=at(10), stale_hold=True)
    # when
    outcome = booking_mark_paid(booking_id=booking.pk)
    # then
    assert outcome is BookingPaymentOutcome.CONFIRMED
    assert _reloaded(other).status == Status.EXPIRED


@pytest.mark.parametrize("other_traits", [{}, {"confirmed": True}])
def test_booking_mark_paid_makes_refund_due_when_the_slot_was_taken(
    frozen_now, other_traits
):
    # given
    booking = BookingFactory(expired=True, start=at(10))
    BookingFactory(advocate=booking.advocate, start=at(10, 15), **other_traits)
    # when
    outcome = booking_mark_paid(booking_id=booking.pk)
    # then
    assert outcome is BookingPaymentOutcome.REFUND_DUE
    booking = _reloaded(booking)
    assert (booking.status, booking.payment_status) == ("expired", "refund_due")


def test_booking_mark_paid_makes_refund_due_when_the_slot_has_passed(time_machine):
    # given
    booking = BookingFactory(expired=True)
    time_machine.move_to(booking.start + timedelta(minutes=1), tick=False)
    # when / then
    assert booking_mark_paid(booking_id=booking.pk) is BookingPaymentOutcome.REFUND_DUE


def test_booking_mark_paid_makes_refund_due_when_the_constraint_refuses(
    frozen_now, monkeypatch
):
    # given: a concurrent booking the overlap check could not see yet
    booking = BookingFactory(expired=True, start=at(10))
    BookingFactory(advocate=booking.advocate, start=at(10))
    monkeypatch.setattr(
        "bookings.services.payment.booking_holding_overlaps",
        lambda **kwargs: Booking.objects.none(),
    )
    # when
    outcome = booking_mark_paid(booking_id=booking.pk)
    # then
    assert outcome is BookingPaymentOutcome.REFUND_DUE
    assert _reloaded(booking).payment_status == PaymentStatus.REFUND_DUE


@pytest.mark.parametrize("status", ["cancelled", "completed", "no_show"])
def test_booking_mark_paid_makes_refund_due_for_a_closed_unpaid_booking(
    frozen_now, status
):
    # given
    booking = BookingFactory(status=status)
    # when
    outcome = booking_mark_paid(booking_id=booking.pk)
    # then
    assert outcome is BookingPaymentOutcome.REFUND_DUE
    booking = _reloaded(booking)
    assert (booking.status, booking.payment_status) == (status, "refund_due")


def test_booking_mark_paid_reports_already_paid_and_changes_nothing(frozen_now):
    # given
    booking = BookingFactory(confirmed=True)
    before = booking.updated_at
    # when
    outcome = booking_mark_paid(booking_id=booking.pk)
    # then
    assert outcome is BookingPaymentOutcome.ALREADY_PAID
    assert _reloaded(booking).updated_at == before


@pytest.mark.parametrize("payment_status", ["refund_due", "refunded"])
def test_booking_mark_paid_on_a_refunded_booking_is_refund_due_too(
    frozen_now, payment_status
):
    # given
    booking = BookingFactory(status=Status.CANCELLED, payment_status=payment_status)
    # when
    outcome = booking_mark_paid(booking_id=booking.pk)
    # then
    assert outcome is BookingPaymentOutcome.REFUND_DUE
    assert _reloaded(booking).payment_status == payment_status
