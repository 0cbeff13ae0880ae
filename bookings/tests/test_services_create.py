from datetime import time, timedelta

import pytest

from bookings.exceptions import (
    ConsultationNotOffered,
    SlotInPast,
    SlotNotAvailable,
    SlotTaken,
    UnknownAdvocate,
)
from bookings.models import Booking
from bookings.services import booking_create
from bookings.tests.clock import NOW, TOMORROW, at
from bookings.tests.factories import (
    BookingFactory,
    ConsultationTypeFactory,
    DayOffFactory,
    UserFactory,
    WeeklyAvailabilityFactory,
)

pytestmark = pytest.mark.django_db


def _offer(price: int = 3000, duration: int = 30):
    offer = ConsultationTypeFactory(price=price, duration=duration)
    WeeklyAvailabilityFactory(
        advocate=offer.advocate,
        weekday=TOMORROW.weekday(),
        start_time=time(9),
        end_time=time(12),
    )
    return offer


def _book(offer, start=None, client=None, **overrides) -> Booking:
    arguments = {
        "client": client or UserFactory(),
        "advocate_id": offer.advocate_id,
        "start": start or at(10),
        "consultation_type_code": offer.code,
        "duration": offer.duration,
    }
    return booking_create(**{**arguments, **overrides})


def test_booking_create_holds_the_slot_at_the_advocates_price(frozen_now, settings):
    # given
    settings.BOOKING_HOLD_MINUTES = 15
    offer = _offer(price=3000)
    # when
    booking = _book(offer)
    # then
    assert booking.amount == 3000
    assert booking.status == Booking.Status.PENDING_PAYMENT
    assert booking.payment_status == Booking.PaymentStatus.UNPAID
    assert booking.end == at(10, 30)
    assert booking.expires_at == NOW + timedelta(minutes=15)


def test_booking_create_refuses_an_unknown_advocate(frozen_now):
    # given
    offer = _offer()
    # when / then
    with pytest.raises(UnknownAdvocate):
        _book(offer, advocate_id=offer.advocate_id + 100)


def test_booking_create_refuses_an_inactive_advocate(frozen_now):
    # given
    offer = _offer()
    offer.advocate.active = False
    offer.advocate.save()
    # when / then
    with pytest.raises(UnknownAdvocate):
        _book(offer)


def test_booking_create_refuses_a_type_not_offered(frozen_now):
    # given
    offer = _offer()
    # when / then
    with pytest.raises(ConsultationNotOffered):
        _book(offer, consultation_type_code="in_person")


def test_booking_create_refuses_a_duration_not_offered(frozen_now):
    # given
    offer = _offer(duration=30)
    # when / then
    with pytest.raises(ConsultationNotOffered):
        _book(offer, duration=60)


def test_booking_create_refuses_an_inactive_offer(frozen_now):
    # given
    offer = _offer()
    offer.active = False
    offer.save()
    # when / then
    with pytest.raises(ConsultationNotOffered):
        _book(offer)


def test_booking_create_refuses_a_past_slot(time_machine):
    # given
    time_machine.move_to(at(10, 5), tick=False)
    offer = _offer()
    # when / then
    with pytest.raises(SlotInPast):
        _book(offer, start=at(10))


def test_booking_create_refuses_a_time_outside_the_hours(frozen_now):
    # given
    offer = _offer()
    # when / then
    with pytest.raises(SlotNotAvailable):
        _book(offer, start=at(12))


def test_booking_create_refuses_a_time_off_the_slot_grid(frozen_now):
    # given
    offer = _offer()
    # when / then
    with pytest.raises(SlotNotAvailable):
        _book(offer, start=at(10, 10))


def test_booking_create_refuses_a_day_off(frozen_now):
    # given
    offer = _offer()
    DayOffFactory(advocate=offer.advocate, date=TOMORROW)
    # when / then
    with pytest.raises(SlotNotAvailable):
        _book(offer)


def test_booking_create_refuses_a_held_slot(frozen_now):
    # given
    offer = _offer()
    _book(offer)
    # when / then
    with pytest.raises(SlotTaken):
        _book(offer)


def test_booking_create_refuses_an_overlapping_slot(frozen_now):
    # given
    offer = _offer()
    BookingFactory(
        advocate=offer.advocate, start=at(9, 30), duration=60, confirmed=True
    )
    # when / then
    with pytest.raises(SlotTaken):
        _book(offer, start=at(10))


def test_booking_create_takes_a_slot_whose_hold_ran_out(frozen_now):
    # given
    offer = _offer()
    stale = BookingFactory(advocate=offer.advocate, start=at(10), stale_hold=True)
    # when
    booking = _book(offer)
    # then
    stale.refresh_from_db()
    assert stale.status == Booking.Status.EXPIRED
    assert booking.status == Booking.Status.PENDING_PAYMENT


def test_booking_create_takes_a_cancelled_slot(frozen_now):
    # given
    offer = _offer()
    BookingFactory(advocate=offer.advocate, start=at(10), cancelled=True)
    # when
    booking = _book(offer)
    # then
    assert booking.pk is not None


def test_booking_create_answers_slot_taken_when_the_database_refuses(
    frozen_now, monkeypatch
):
    # given: a concurrent booking the overlap check could not see yet
    offer = _offer()
    BookingFactory(advocate=offer.advocate, start=at(10))
    monkeypatch.setattr(
        "bookings.services.creation.booking_holding_overlaps",
        lambda **kwargs: Booking.objects.none(),
    )
    # when / then
    with pytest.raises(SlotTaken):
        _book(offer)
