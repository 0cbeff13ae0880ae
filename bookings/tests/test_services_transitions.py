from datetime import timedelta
from itertools import product

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from bookings.exceptions import (
    BookingNotCancellable,
    BookingNotFound,
    InvalidBookingTransition,
)
from bookings.models import Booking
from bookings.services import (
    booking_cancel,
    booking_expire_holds,
    booking_extend_hold,
    booking_mark_completed,
    booking_mark_no_show,
    booking_mark_refunded,
)
from bookings.services.transitions import booking_transition
from bookings.tests.factories import BookingFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = Booking.Status
PaymentStatus = Booking.PaymentStatus

STATUS_PAIRS = [(a, b) for a, b in product(Status.values, repeat=2) if a != b]
PAYMENT_PAIRS = [(a, b) for a, b in product(PaymentStatus.values, repeat=2) if a != b]
ALLOWED = [(a, b) for a, b in STATUS_PAIRS if b in Booking.ALLOWED_TRANSITIONS[a]]
REFUSED = [(a, b) for a, b in STATUS_PAIRS if (a, b) not in ALLOWED]
PAY_ALLOWED = [
    (a, b) for a, b in PAYMENT_PAIRS if b in Booking.ALLOWED_PAYMENT_TRANSITIONS[a]
]
PAY_REFUSED = [(a, b) for a, b in PAYMENT_PAIRS if (a, b) not in PAY_ALLOWED]


@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED)
def test_booking_transition_applies_each_allowed_status(from_status, to_status):
    # given
    booking = BookingFactory(status=from_status)
    # when
    booking_transition(booking_id=booking.pk, status=to_status)
    # then
    booking.refresh_from_db()
    assert booking.status == to_status


@pytest.mark.parametrize(("from_status", "to_status"), REFUSED)
def test_booking_transition_refuses_each_other_status(from_status, to_status):
    # given
    booking = BookingFactory(status=from_status)
    # when / then
    with pytest.raises(InvalidBookingTransition):
        booking_transition(booking_id=booking.pk, status=to_status)
    booking.refresh_from_db()
    assert booking.status == from_status


@pytest.mark.parametrize(("from_status", "to_status"), PAY_ALLOWED)
def test_booking_transition_applies_each_allowed_payment_status(from_status, to_status):
    # given
    booking = BookingFactory(payment_status=from_status)
    # when
    booking_transition(booking_id=booking.pk, payment_status=to_status)
    # then
    booking.refresh_from_db()
    assert booking.payment_status == to_status


@pytest.mark.parametrize(("from_status", "to_status"), PAY_REFUSED)
def test_booking_transition_refuses_each_other_payment_status(from_status, to_status):
    # given
    booking = BookingFactory(payment_status=from_status)
    # when / then
    with pytest.raises(InvalidBookingTransition):
        booking_transition(booking_id=booking.pk, payment_status=to_status)


def test_booking_transition_to_the_current_status_is_a_no_op():
    # given
    booking = BookingFactory(confirmed=True)
    before = booking.updated_at
    # when
    booking_transition(booking_id=booking.pk, status=Status.CONFIRMED)
    # then
    booking.refresh_from_db()
    assert booking.updated_at == before


def test_booking_transition_changes_nothing_when_one_part_is_refused():
    # given
    booking = BookingFactory(completed=True)
    # when
    with pytest.raises(InvalidBookingTransition):
        booking_transition(
            booking_id=booking.pk,
            status=Status.CANCELLED,
            payment_status=PaymentStatus.REFUND_DUE,
        )
    # then
    booking.refresh_from_db()
    assert booking.payment_status == PaymentStatus.PAID


def test_booking_cancel_cancels_an_unpaid_booking():
    # given
    booking = BookingFactory()
    # when
    cancelled = booking_cancel(booking_id=booking.pk, actor=booking.client)
    # then
    assert cancelled.status == Status.CANCELLED
    assert cancelled.payment_status == PaymentStatus.UNPAID


def test_booking_cancel_makes_a_paid_booking_refund_due():
    # given
    booking = BookingFactory(confirmed=True)
    # when
    cancelled = booking_cancel(booking_id=booking.pk, actor=booking.client)
    # then
    assert cancelled.status == Status.CANCELLED
    assert cancelled.payment_status == PaymentStatus.REFUND_DUE


def test_booking_cancel_lets_finance_cancel_any_booking():
    # given
    booking = BookingFactory()
    finance = UserFactory(staff=True)
    finance.groups.add(Group.objects.get(name="Finance"))
    # when
    cancelled = booking_cancel(booking_id=booking.pk, actor=finance)
    # then
    assert cancelled.status == Status.CANCELLED


def test_booking_cancel_hides_others_bookings_from_staff_without_permission():
    # given
    booking = BookingFactory()
    # when / then
    with pytest.raises(BookingNotFound):
        booking_cancel(booking_id=booking.pk, actor=UserFactory(staff=True))


def test_booking_cancel_hides_other_clients_bookings():
    # given
    booking = BookingFactory()
    # when / then
    with pytest.raises(BookingNotFound):
        booking_cancel(booking_id=booking.pk, actor=UserFactory())


def test_booking_cancel_refuses_a_started_consultation(time_machine):
    # given
    booking = BookingFactory(confirmed=True)
    time_machine.move_to(booking.start + timedelta(minutes=5), tick=False)
    # when / then
    with pytest.raises(BookingNotCancellable):
        booking_cancel(booking_id=booking.pk, actor=booking.client)


def test_booking_cancel_refuses_a_completed_booking():
    # given
    booking = BookingFactory(completed=True)
    # when / then
    with pytest.raises(InvalidBookingTransition):
        booking_cancel(booking_id=booking.pk, actor=booking.client)


def test_booking_cancel_twice_is_idempotent():
    # given
    booking = BookingFactory(confirmed=True)
    booking_cancel(booking_id=booking.pk, actor=booking.client)
    # when
    again = booking_cancel(booking_id=booking.pk, actor=booking.client)
    # then
    assert again.status == Status.CANCELLED
    assert again.payment_status == PaymentStatus.REFUND_DUE


def test_booking_mark_completed_completes_a_confirmed_booking():
    # given
    booking = BookingFactory(confirmed=True)
    # when / then
    assert booking_mark_completed(booking_id=booking.pk).status == Status.COMPLETED


def test_booking_mark_no_show_refuses_a_pending_booking():
    # given
    booking = BookingFactory()
    # when / then
    with pytest.raises(InvalidBookingTransition):
        booking_mark_no_show(booking_id=booking.pk)


def test_booking_mark_refunded_settles_a_refund_due():
    # given
    booking = BookingFactory(cancelled_paid=True)
    # when
    refunded = booking_mark_refunded(booking_id=booking.pk)
    # then
    assert refunded.payment_status == PaymentStatus.REFUNDED


def test_booking_expire_holds_expires_only_holds_that_ran_out(frozen_now):
    # given
    stale = BookingFactory(stale_hold=True)
    live = BookingFactory()
    confirmed = BookingFactory(confirmed=True, stale_hold=True)
    # when
    expired = booking_expire_holds()
    # then
    assert expired == 1
    for booking in (stale, live, confirmed):
        booking.refresh_from_db()
    assert stale.status == Status.EXPIRED
    assert live.status == Status.PENDING_PAYMENT
    assert confirmed.status == Status.CONFIRMED


def test_booking_expire_holds_after_the_hold_minutes(frozen_now, time_machine):
    # given
    booking = BookingFactory()
    time_machine.shift(timedelta(minutes=16))
    # when
    booking_expire_holds()
    # then
    booking.refresh_from_db()
    assert booking.status == Status.EXPIRED


def test_booking_extend_hold_pushes_the_hold_later(frozen_now):
    # given
    booking = BookingFactory()
    until = timezone.now() + timedelta(hours=1)
    # when
    booking_extend_hold(booking_id=booking.pk, until=until)
    # then
    booking.refresh_from_db()
    assert booking.expires_at == until


def test_booking_extend_hold_never_shortens_it(frozen_now):
    # given
    booking = BookingFactory()
    before = booking.expires_at
    # when
    booking_extend_hold(booking_id=booking.pk, until=timezone.now())
    # then
    booking.refresh_from_db()
    assert booking.expires_at == before


def test_booking_extend_hold_leaves_a_confirmed_booking_alone(frozen_now):
    # given
    booking = BookingFactory(confirmed=True)
    before = booking.expires_at
    # when
    booking_extend_hold(booking_id=booking.pk, until=before + timedelta(hours=1))
    # then
    booking.refresh_from_db()
    assert booking.expires_at == before


def test_booking_extend_hold_keeps_the_booking_from_expiring(frozen_now, time_machine):
    # given
    booking = BookingFactory()
    booking_extend_hold(
        booking_id=booking.pk, until=timezone.now() + timedelta(minutes=30)
    )
    time_machine.shift(timedelta(minutes=16))
    # when
    booking_expire_holds()
    # then
    booking.refresh_from_db()
    assert booking.status == Status.PENDING_PAYMENT
