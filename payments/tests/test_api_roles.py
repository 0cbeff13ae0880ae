"""Staff powers on the payments API follow Django permissions (issue 11,
point 9): ``Support`` and ``Finance`` read every payment (view_payment),
a staff user with no group sees only their own, and nobody, not even a
superuser, pushes an STK prompt for someone else's booking."""

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from bookings.tests.factories import BookingFactory, UserFactory
from payments.models import Payment
from payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db
PUSH_URL = "/api/payment/mpesa/stk-push"


def _staff(group: str | None = None, **flags):
    """A staff user in ``group`` (a group the migrations created), or none."""
    user = UserFactory(staff=True, **flags)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def _as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _status_url(payment: Payment) -> str:
    return f"/api/payment/mpesa/status/{payment.checkout_request_id}"


@pytest.mark.parametrize("group", ["Support", "Finance"])
def test_payment_list_shows_staff_with_view_permission_every_payment(group):
    # given
    PaymentFactory.create_batch(2)
    # when
    response = _as(_staff(group)).get("/api/payments/")
    # then
    assert response.status_code == 200
    assert response.json()["count"] == 2


def test_payment_list_shows_staff_without_a_group_only_their_own():
    # given
    staff = _staff()
    own = PaymentFactory(booking=BookingFactory(client=staff))
    PaymentFactory()
    # when
    response = _as(staff).get("/api/payments/")
    # then
    assert [p["payment_id"] for p in response.json()["results"]] == [own.pk]


@pytest.mark.parametrize("group", ["Support", "Finance"])
def test_payment_detail_and_status_show_staff_with_view_permission_any(group):
    # given
    payment = PaymentFactory()
    client = _as(_staff(group))
    # when
    detail = client.get(f"/api/payments/{payment.pk}/")
    status = client.get(_status_url(payment))
    # then
    assert (detail.status_code, status.status_code) == (200, 200)


def test_payment_detail_and_status_are_404_for_staff_without_a_group():
    # given
    payment = PaymentFactory()
    client = _as(_staff())
    # when
    detail = client.get(f"/api/payments/{payment.pk}/")
    status = client.get(_status_url(payment))
    # then
    assert (detail.status_code, status.status_code) == (404, 404)
    assert status.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "user",
    [
        pytest.param(lambda: _staff("Finance"), id="finance"),
        pytest.param(lambda: _staff("Support"), id="support"),
        pytest.param(lambda: _staff(is_superuser=True), id="superuser"),
    ],
)
def test_stk_push_for_someone_elses_booking_is_404_for_any_staff(user, fake_daraja):
    # given
    booking = BookingFactory()
    body = {"phone_number": "0708374149", "booking_id": booking.pk}
    # when
    response = _as(user()).post(PUSH_URL, body, format="json")
    # then
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert fake_daraja.pushes == []
    assert Payment.objects.filter(booking=booking).exists() is False
