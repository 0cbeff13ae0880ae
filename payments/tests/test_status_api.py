from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.tests.factories import UserFactory
from payments.models import Payment
from payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db


def status_url(payment: Payment) -> str:
    return f"/api/payment/mpesa/status/{payment.checkout_request_id}"


def test_status_shows_the_payment_as_the_database_knows_it(api_client):
    # given
    payment = PaymentFactory(completed=True, mpesa_receipt_number="NLJ7RT61SV")
    api_client.force_authenticate(payment.booking.client)
    # when
    response = api_client.get(status_url(payment))
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "completed"
    assert body["is_final"] is True
    assert body["mpesa_receipt_number"] == "NLJ7RT61SV"
    assert body["amount"] == payment.amount
    assert body["booking_id"] == payment.booking_id
    assert body["booking_status"] == "pending_payment"


def test_status_of_a_failed_payment_names_the_failure_kind(api_client):
    # given
    payment = PaymentFactory(failed=True)
    api_client.force_authenticate(payment.booking.client)
    # when
    body = api_client.get(status_url(payment)).json()
    # then
    assert body["failure_kind"] == "cancelled"
    assert body["failure_reason"]


def test_status_of_another_clients_payment_is_404(api_client):
    # given
    payment = PaymentFactory()
    api_client.force_authenticate(UserFactory())
    # when
    response = api_client.get(status_url(payment))
    # then
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_polling_an_overdue_pending_payment_queries_daraja_once_per_interval(
    api_client, fake_daraja, django_capture_on_commit_callbacks
):
    # given
    payment = PaymentFactory(accepted_at=timezone.now() - timedelta(minutes=5))
    api_client.force_authenticate(payment.booking.client)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            api_client.get(status_url(payment))
    # then
    assert fake_daraja.queries == [payment.checkout_request_id]


def test_polling_a_fresh_pending_payment_never_queries(
    api_client, fake_daraja, django_capture_on_commit_callbacks
):
    # given
    payment = PaymentFactory()
    api_client.force_authenticate(payment.booking.client)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        api_client.get(status_url(payment))
    # then
    assert fake_daraja.queries == []


def test_payment_list_shows_only_own_payments_filtered_by_status(api_client):
    # given
    mine = PaymentFactory(completed=True)
    PaymentFactory(
        booking__client=mine.booking.client,
        failed=True,
        booking__start=mine.booking.start + timedelta(hours=3),
    )
    PaymentFactory(completed=True)  # someone else's
    api_client.force_authenticate(mine.booking.client)
    # when
    response = api_client.get("/api/payments/?status=completed")
    # then
    assert response.status_code == 200
    assert [p["payment_id"] for p in response.json()["results"]] == [mine.pk]


def test_payment_detail_of_another_client_is_404(api_client):
    # given
    payment = PaymentFactory()
    api_client.force_authenticate(UserFactory())
    # when
    response = api_client.get(f"/api/payments/{payment.pk}/")
    # then
    assert response.status_code == 404
