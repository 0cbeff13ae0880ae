"""Races on one payment, on PostgreSQL where row locks are real."""

import threading

import pytest
from django.db import connection, transaction
from django.test import Client
from rest_framework.test import APIClient

from bookings.models import Booking
from bookings.tests.factories import BookingFactory
from core.tests.concurrency import run_at_once
from payments.models import MpesaReceipt, Payment, PaymentEvent
from payments.services.reconciliation import payment_query
from payments.tests.conftest import callback_url
from payments.tests.factories import PaymentFactory
from payments.tests.fakes import FakeDarajaClient, query_answer
from payments.tests.payloads import as_bytes, success_callback

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_callbacks_and_a_query_complete_the_payment_exactly_once():
    # given
    payment = PaymentFactory()
    body = as_bytes(success_callback(payment.checkout_request_id))
    fake = FakeDarajaClient(query_result=query_answer("0"))

    def deliver():
        response = Client().generic(
            "POST", callback_url(), body, content_type="application/json"
        )
        assert response.status_code == 200

    def query():
        payment_query(payment_id=payment.pk, client=fake)

    # when
    errors = run_at_once(*[deliver] * 20, query)
    # then
    assert errors == []
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED
    assert payment.mpesa_receipt_number == "NLJ7RT61SV"
    assert Payment.objects.filter(mpesa_receipt_number="NLJ7RT61SV").count() == 1
    completions = PaymentEvent.objects.filter(payment=payment, to_status="completed")
    assert completions.count() == 1
    assert PaymentEvent.objects.filter(payment=payment, kind="callback").count() == 20
    booking = Booking.objects.get(pk=payment.booking_id)
    assert booking.status == Booking.Status.CONFIRMED


def test_concurrent_pushes_for_one_booking_prompt_the_phone_once(fake_daraja):
    # given
    booking = BookingFactory()
    results = []

    def push():
        client = APIClient()
        client.force_authenticate(booking.client)
        response = client.post(
            "/api/payment/mpesa/stk-push",
            {"phone_number": "0708374149", "booking_id": booking.pk},
            format="json",
        )
        results.append(response.status_code)

    # when: five at once (the per-phone rate allows five a minute)
    errors = run_at_once(*[push] * 5)
    # then
    assert errors == []
    assert sorted(results) == [201] + [409] * 4
    assert len(fake_daraja.pushes) == 1


def test_one_receipt_for_two_payments_at_once_sends_the_loser_to_review():
    # given: two open payments; two callbacks carry the same receipt
    first, second = PaymentFactory(), PaymentFactory()

    def deliver(payment):
        body = as_bytes(success_callback(payment.checkout_request_id))
        response = Client().generic(
            "POST", callback_url(), body, content_type="application/json"
        )
        assert response.status_code == 200

    # when
    errors = run_at_once(lambda: deliver(first), lambda: deliver(second))
    # then: one completed with the receipt, the other in review at once
    assert errors == []
    statuses = sorted(
        Payment.objects.filter(pk__in=[first.pk, second.pk]).values_list(
            "status", "review_code", "mpesa_receipt_number"
        )
    )
    assert statuses == [
        (Payment.Status.COMPLETED, "", "NLJ7RT61SV"),
        (Payment.Status.NEEDS_REVIEW, Payment.ReviewCode.RECEIPT_DUPLICATE, None),
    ]
    loser = Payment.objects.get(status=Payment.Status.NEEDS_REVIEW)
    booking = Booking.objects.get(pk=loser.booking_id)
    assert booking.payment_status == Booking.PaymentStatus.UNPAID
    # the ledger: one receipt, allocated to the winner, seen twice
    receipt = MpesaReceipt.objects.get(receipt_number="NLJ7RT61SV")
    assert receipt.payment.status == Payment.Status.COMPLETED
    assert receipt.sightings.count() == 2


def _post_success_while_another_payment_commits_its_receipt(target, other):
    """Deterministic race: ``other`` holds the receipt uncommitted while the
    callback for ``target`` writes it, then commits."""
    holding, release = threading.Event(), threading.Event()

    def hold_receipt_then_commit():
        try:
            with transaction.atomic():
                Payment.objects.filter(pk=other.pk).update(
                    mpesa_receipt_number="NLJ7RT61SV"
                )
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_receipt_then_commit)
    holder.start()
    holding.wait(10)
    threading.Timer(1.0, release.set).start()  # commits while we wait on it
    body = as_bytes(success_callback(target.checkout_request_id))
    response = Client().generic(
        "POST", callback_url(), body, content_type="application/json"
    )
    holder.join()
    return response


def test_query_completed_payment_losing_a_receipt_race_goes_to_review():
    # given: completed by a query (no receipt yet); another payment is
    # committing the same receipt as the late callback arrives
    target, other = PaymentFactory(), PaymentFactory()
    payment_query(
        payment_id=target.pk, client=FakeDarajaClient(query_result=query_answer("0"))
    )
    # when
    response = _post_success_while_another_payment_commits_its_receipt(target, other)
    # then
    assert response.status_code == 200
    target.refresh_from_db()
    assert target.status == Payment.Status.NEEDS_REVIEW
    assert target.review_code == Payment.ReviewCode.RECEIPT_DUPLICATE
    assert target.mpesa_receipt_number is None


def test_open_payment_losing_a_receipt_race_goes_to_review_unpaid():
    # given
    target, other = PaymentFactory(), PaymentFactory()
    # when
    _post_success_while_another_payment_commits_its_receipt(target, other)
    # then
    target.refresh_from_db()
    assert target.status == Payment.Status.NEEDS_REVIEW
    assert target.review_code == Payment.ReviewCode.RECEIPT_DUPLICATE
    booking = Booking.objects.get(pk=target.booking_id)
    assert booking.payment_status == Booking.PaymentStatus.UNPAID
