from datetime import time, timedelta

import pytest
from django.contrib.auth.models import Group

from bookings.exceptions import (
    AdvocateNotFound,
    BookingNotFound,
    ConsultationNotOffered,
)
from bookings.selectors import (
    advocate_list_active,
    advocate_slot_list,
    booking_get_for_user,
    booking_get_to_pay,
    booking_list_for_user,
)
from bookings.tests.clock import TOMORROW, at
from bookings.tests.factories import (
    AdvocateFactory,
    BookingFactory,
    ConsultationTypeFactory,
    DayOffFactory,
    UserFactory,
    WeeklyAvailabilityFactory,
)

pytestmark = pytest.mark.django_db


def _advocate_working(day=TOMORROW, start=time(9), end=time(11)):
    """An advocate offering 30-minute video calls, working ``start``-``end``."""
    offer = ConsultationTypeFactory()
    WeeklyAvailabilityFactory(
        advocate=offer.advocate, weekday=day.weekday(), start_time=start, end_time=end
    )
    return offer.advocate


def _slots(advocate, day=TOMORROW, duration=30):
    return advocate_slot_list(
        advocate_id=advocate.pk,
        day=day,
        consultation_type_code="video",
        duration=duration,
    )


def test_advocate_slot_list_gives_the_grid_of_a_free_day(frozen_now):
    # given
    advocate = _advocate_working()
    # when
    slots = _slots(advocate)
    # then
    assert slots == [at(9), at(9, 30), at(10), at(10, 30)]


def test_advocate_slot_list_is_empty_on_a_day_off(frozen_now):
    # given
    advocate = _advocate_working()
    DayOffFactory(advocate=advocate, date=TOMORROW)
    # when / then
    assert _slots(advocate) == []


def test_advocate_slot_list_is_empty_on_a_day_without_hours(frozen_now):
    # given
    advocate = _advocate_working()
    # when / then
    assert _slots(advocate, day=TOMORROW + timedelta(days=1)) == []


def test_advocate_slot_list_leaves_out_confirmed_and_held_slots(frozen_now):
    # given
    advocate = _advocate_working()
    BookingFactory(advocate=advocate, start=at(9), confirmed=True)
    BookingFactory(advocate=advocate, start=at(10))
    # when / then
    assert _slots(advocate) == [at(9, 30), at(10, 30)]


def test_advocate_slot_list_frees_a_slot_whose_hold_ran_out(frozen_now):
    # given
    advocate = _advocate_working()
    BookingFactory(advocate=advocate, start=at(9), stale_hold=True)
    # when / then
    assert at(9) in _slots(advocate)


def test_advocate_slot_list_frees_the_slot_once_the_hold_time_passes(
    frozen_now, time_machine
):
    # given
    advocate = _advocate_working()
    BookingFactory(advocate=advocate, start=at(9))
    assert at(9) not in _slots(advocate)
    # when
    time_machine.shift(timedelta(minutes=16))
    # then
    assert at(9) in _slots(advocate)


@pytest.mark.parametrize("status", ["cancelled", "expired"])
def test_advocate_slot_list_ignores_released_bookings(frozen_now, status):
    # given
    advocate = _advocate_working()
    BookingFactory(advocate=advocate, start=at(9), **{status: True})
    # when / then
    assert at(9) in _slots(advocate)


def test_advocate_slot_list_blocks_starts_a_longer_booking_would_overlap(
    frozen_now,
):
    # given
    advocate = _advocate_working()
    ConsultationTypeFactory(advocate=advocate, duration=60, price=5500)
    BookingFactory(advocate=advocate, start=at(10), confirmed=True)
    # when
    slots = _slots(advocate, duration=60)
    # then
    assert slots == [at(9)]


def test_advocate_slot_list_has_no_past_times_today(time_machine):
    # given
    time_machine.move_to(at(9, 45), tick=False)
    advocate = _advocate_working()
    # when / then
    assert _slots(advocate) == [at(10), at(10, 30)]


def test_advocate_slot_list_ignores_other_advocates_bookings(frozen_now):
    # given
    advocate = _advocate_working()
    BookingFactory(start=at(9), confirmed=True)
    # when / then
    assert at(9) in _slots(advocate)


def test_advocate_slot_list_refuses_an_inactive_advocate(frozen_now):
    # given
    advocate = _advocate_working()
    advocate.active = False
    advocate.save()
    # when / then
    with pytest.raises(AdvocateNotFound):
        _slots(advocate)


def test_advocate_slot_list_refuses_a_duration_not_offered(frozen_now):
    # given
    advocate = _advocate_working()
    # when / then
    with pytest.raises(ConsultationNotOffered):
        _slots(advocate, duration=45)


def test_advocate_list_active_leaves_out_inactive_advocates():
    # given
    active = AdvocateFactory()
    AdvocateFactory(inactive=True)
    # when / then
    assert list(advocate_list_active()) == [active]


def test_booking_list_for_user_gives_only_own_bookings():
    # given
    mine = BookingFactory()
    BookingFactory()
    # when
    bookings = booking_list_for_user(user=mine.client)
    # then
    assert list(bookings) == [mine]


def test_booking_list_for_user_gives_every_booking_with_view_permission():
    # given
    BookingFactory.create_batch(2)
    support = UserFactory(staff=True)
    support.groups.add(Group.objects.get(name="Support"))
    # when / then
    assert booking_list_for_user(user=support).count() == 2


def test_booking_list_for_user_gives_staff_without_permission_their_own():
    # given
    BookingFactory()
    staff = UserFactory(staff=True)
    # when / then
    assert booking_list_for_user(user=staff).count() == 0


def test_booking_get_for_user_hides_other_clients_bookings():
    # given
    booking = BookingFactory()
    # when / then
    with pytest.raises(BookingNotFound):
        booking_get_for_user(booking_id=booking.pk, user=UserFactory())


def test_booking_get_for_user_without_payments_has_no_latest_payment():
    # given
    booking = BookingFactory()
    # when
    found = booking_get_for_user(booking_id=booking.pk, user=booking.client)
    # then
    assert found.latest_payment_status is None
    assert found.latest_payment_receipt is None


def test_booking_get_to_pay_gives_the_owner_their_booking_in_one_query(
    django_assert_num_queries,
):
    # given
    booking = BookingFactory()
    # when
    with django_assert_num_queries(1):
        found = booking_get_to_pay(booking_id=booking.pk, user=booking.client)
    # then
    assert found.pk == booking.pk
    assert found.amount == booking.amount


def test_booking_get_to_pay_hides_others_bookings_even_from_a_superuser():
    # given
    booking = BookingFactory()
    superuser = UserFactory(staff=True, is_superuser=True)
    # when / then
    with pytest.raises(BookingNotFound):
        booking_get_to_pay(booking_id=booking.pk, user=superuser)


@pytest.mark.parametrize("whose", ["another client", "missing"])
def test_booking_get_to_pay_hides_bookings_the_user_cannot_pay(whose):
    # given
    booking = BookingFactory()
    booking_id = booking.pk if whose == "another client" else booking.pk + 1000
    # when / then
    with pytest.raises(BookingNotFound):
        booking_get_to_pay(
            booking_id=booking_id,
            user=booking.client if whose == "missing" else UserFactory(),
        )
