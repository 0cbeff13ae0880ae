"""Staff powers on the bookings API follow Django permissions (issue 11,
point 9): ``Support`` and ``Finance`` read every booking (view_booking),
only ``Finance`` cancels another client's (change_booking), and a staff
user with no group is a client like any other."""

import pytest
from django.contrib.auth.models import Group, Permission
from rest_framework.test import APIClient

from bookings.models import Booking
from bookings.tests.factories import BookingFactory, UserFactory

pytestmark = pytest.mark.django_db


def _staff(group: str | None = None):
    """A staff user in ``group`` (a group the migrations created), or none."""
    user = UserFactory(staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def _as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("group", ["Support", "Finance"])
def test_bookings_list_shows_staff_with_view_permission_every_booking(group):
    # given
    BookingFactory.create_batch(2)
    # when
    response = _as(_staff(group)).get("/api/bookings/")
    # then
    assert response.status_code == 200
    assert response.json()["count"] == 2


def test_bookings_list_shows_staff_without_a_group_only_their_own():
    # given
    staff = _staff()
    own = BookingFactory(client=staff)
    BookingFactory()
    # when
    response = _as(staff).get("/api/bookings/")
    # then
    assert [b["id"] for b in response.json()["results"]] == [own.pk]


@pytest.mark.parametrize("group", ["Support", "Finance"])
def test_booking_detail_shows_staff_with_view_permission_any_booking(group):
    # given
    booking = BookingFactory()
    # when
    response = _as(_staff(group)).get(f"/api/bookings/{booking.pk}/")
    # then
    assert response.status_code == 200


def test_booking_detail_of_another_client_is_404_for_staff_without_a_group():
    # given
    booking = BookingFactory()
    # when
    response = _as(_staff()).get(f"/api/bookings/{booking.pk}/")
    # then
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_booking_cancel_by_finance_cancels_another_clients_booking():
    # given
    booking = BookingFactory()
    # when
    response = _as(_staff("Finance")).post(f"/api/bookings/{booking.pk}/cancel/")
    # then
    assert response.status_code == 200
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


def test_booking_cancel_by_support_is_refused_with_403():
    # given: Support may read the booking, not change it
    booking = BookingFactory()
    # when
    response = _as(_staff("Support")).post(f"/api/bookings/{booking.pk}/cancel/")
    # then
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING_PAYMENT


def test_booking_cancel_by_staff_without_a_group_is_404():
    # given
    booking = BookingFactory()
    # when
    response = _as(_staff()).post(f"/api/bookings/{booking.pk}/cancel/")
    # then
    assert response.status_code == 404
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING_PAYMENT


def test_booking_cancel_by_staff_without_a_group_still_cancels_their_own():
    # given
    staff = _staff()
    booking = BookingFactory(client=staff)
    # when
    response = _as(staff).post(f"/api/bookings/{booking.pk}/cancel/")
    # then
    assert response.status_code == 200


def test_booking_cancel_with_only_the_change_permission_answers_the_booking():
    # given: change implies view, as in the admin
    user = _staff()
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="bookings", codename="change_booking"
        )
    )
    booking = BookingFactory()
    # when
    response = _as(user).post(f"/api/bookings/{booking.pk}/cancel/")
    # then
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
