import pytest
from django.contrib.auth.models import Group

from bookings.models import Booking
from bookings.tests.factories import BookingFactory, UserFactory

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/bookings/booking/"


def staff_in(group_name: str):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


def cancel(client, booking):
    return client.post(
        CHANGELIST, {"action": "cancel", "_selected_action": [booking.pk]}
    )


def test_support_can_view_bookings_but_not_cancel_them(client):
    # given
    booking = BookingFactory()
    client.force_login(staff_in("Support"))
    # when
    listing = client.get(CHANGELIST)
    cancel(client, booking)
    # then
    assert listing.status_code == 200
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING_PAYMENT


def test_finance_can_cancel_a_booking(client):
    # given
    booking = BookingFactory()
    client.force_login(staff_in("Finance"))
    # when
    cancel(client, booking)
    # then
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


@pytest.mark.parametrize("term", ["{ref}", "{ref_lower}"])
def test_booking_list_shows_and_finds_the_reference(client, term):
    # given
    wanted = BookingFactory()
    other = BookingFactory()
    client.force_login(staff_in("Support"))
    query = term.format(ref=wanted.reference, ref_lower=wanted.reference.lower())
    # when
    response = client.get(CHANGELIST, {"q": query})
    # then
    listed = {b.pk for b in response.context["cl"].result_list}
    assert wanted.pk in listed
    assert other.pk not in listed
    assert wanted.reference in response.content.decode()
