from datetime import timedelta

import pytest
from django.db import IntegrityError

from bookings.models import Booking
from bookings.tests.factories import (
    BookingFactory,
    ConsultationTypeFactory,
    WeeklyAvailabilityFactory,
)

pytestmark = pytest.mark.django_db


def test_booking_amount_below_one_is_refused_by_the_database():
    # when / then
    with pytest.raises(IntegrityError):
        BookingFactory(amount=0)


def test_booking_unknown_status_is_refused_by_the_database():
    # when / then
    with pytest.raises(IntegrityError):
        BookingFactory(status="lost")


def test_booking_end_before_start_is_refused_by_the_database():
    # given
    booking = BookingFactory.build()
    # when / then
    with pytest.raises(IntegrityError):
        BookingFactory(end=booking.start - timedelta(minutes=1))


def test_booking_two_holds_of_one_start_are_refused_by_the_database():
    # given
    first = BookingFactory()
    # when / then
    with pytest.raises(IntegrityError):
        BookingFactory(advocate=first.advocate, start=first.start, confirmed=True)


def test_booking_released_bookings_do_not_hold_the_start():
    # given
    first = BookingFactory(cancelled=True)
    # when
    second = BookingFactory(advocate=first.advocate, start=first.start)
    # then
    assert second.pk is not None


def test_booking_transition_tables_cover_every_status():
    # when / then
    assert set(Booking.ALLOWED_TRANSITIONS) == set(Booking.Status.values)
    assert set(Booking.ALLOWED_PAYMENT_TRANSITIONS) == set(Booking.PaymentStatus.values)


def test_consultation_type_price_below_one_is_refused_by_the_database():
    # when / then
    with pytest.raises(IntegrityError):
        ConsultationTypeFactory(price=0)


def test_availability_ending_before_it_starts_is_refused_by_the_database():
    # given
    window = WeeklyAvailabilityFactory.build()
    # when / then
    with pytest.raises(IntegrityError):
        WeeklyAvailabilityFactory(
            start_time=window.end_time, end_time=window.start_time
        )
