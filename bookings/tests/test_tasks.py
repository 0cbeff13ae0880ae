import pytest

from bookings.models import Booking
from bookings.tasks import booking_expire_holds_task
from bookings.tests.factories import BookingFactory

pytestmark = pytest.mark.django_db


def test_booking_expire_holds_task_expires_and_counts(frozen_now):
    # given
    stale = BookingFactory(stale_hold=True)
    BookingFactory()
    # when
    result = booking_expire_holds_task.delay()
    # then
    assert result.get() == 1
    stale.refresh_from_db()
    assert stale.status == Booking.Status.EXPIRED


def test_booking_expire_holds_task_has_the_name_beat_schedules():
    # when / then
    assert booking_expire_holds_task.name == "bookings.tasks.booking_expire_holds_task"
