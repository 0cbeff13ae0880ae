"""Paybill end to end: our URLs registered with the in-process simulator by
``manage.py mpesa_register_c2b_urls``, then ``POST /simulator/c2b/pay``
runs validation and confirmation against a live server of our views."""

import io
import time
from collections.abc import Iterator

import pytest
import requests
from django.core.management import call_command
from rest_framework.test import APIClient

from bookings.models import Booking
from bookings.tests.factories import BookingFactory
from daraja_simulator import SimulatorServer
from daraja_simulator.tests.fixtures import (
    SHORT_CODE,
    start_simulator,
    use_simulator,
)
from payments.models import MpesaReceipt, Payment
from payments.tests.conftest import C2B_SECRET

pytestmark = pytest.mark.django_db(transaction=True)
# The Paybill that takes STK payments too (the double notification case).
PAYBILL = SHORT_CODE


@pytest.fixture
def stack(settings, live_server) -> Iterator[SimulatorServer]:
    server = start_simulator(c2b_validation_timeout=5.0)
    use_simulator(settings, server)
    base = f"{live_server.url}/api/payment"
    settings.MPESA_CALLBACK_URL = f"{base}/callback/{settings.MPESA_CALLBACK_SECRET}"
    settings.MPESA_C2B_SHORT_CODE = PAYBILL
    settings.MPESA_C2B_CONFIRMATION_URL = f"{base}/c2b/confirmation/{C2B_SECRET}"
    settings.MPESA_C2B_VALIDATION_URL = f"{base}/c2b/validation/{C2B_SECRET}"
    call_command("mpesa_register_c2b_urls", "--api-version", "v2", stdout=io.StringIO())
    yield server
    server.stop()


def control(server: SimulatorServer, name: str, body: dict) -> dict:
    url = f"{server.base_url}/simulator/{name}"
    return requests.post(url, json=body, timeout=15).json()


def paybill(server: SimulatorServer, account: str, amount: int = 3000) -> dict:
    body = {
        "phone": "254708374149",
        "amount": amount,
        "account": account,
        "short_code": PAYBILL,
    }
    return control(server, "c2b/pay", body)


def test_paying_by_paybill_through_the_simulator_pays_the_booking(stack):
    # given
    booking = BookingFactory()
    # when: the client types the reference in lower case with a dash
    done = paybill(stack, f"{booking.reference[:2]}-{booking.reference[2:].lower()}")
    # then
    assert done["status"] == "completed"
    [confirmation] = [n for n in done["notifications"] if n["kind"] == "confirmation"]
    assert confirmation["http_status"] == 200
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == ("confirmed", "paid")
    receipt = MpesaReceipt.objects.get()
    assert (receipt.receipt_number, receipt.channel) == (done["receipt"], "paybill")
    assert receipt.payer_phone == "2547 ***** 149"


def test_validation_on_rejects_a_wrong_amount_and_no_money_moves(stack, settings):
    # given
    settings.MPESA_C2B_VALIDATE = True
    control(stack, "c2b/validation", {"short_code": PAYBILL, "enabled": True})
    booking = BookingFactory(amount=3000)
    # when
    done = paybill(stack, booking.reference, amount=2000)
    # then
    assert (done["status"], done["result_code"]) == ("rejected", "C2B00013")
    assert not MpesaReceipt.objects.exists()
    booking.refresh_from_db()
    assert booking.payment_status == "unpaid"


# The callback, the confirmation and the follow-up query write at once:
# SQLite's shared in-memory database locks whole tables between threads.
@pytest.mark.postgres
def test_stk_payment_with_double_notification_is_counted_once(stack):
    # given: every STK success is also sent as a C2B confirmation
    requests.post(
        f"{stack.base_url}/simulator/config",
        json={"c2b_double_notification": True, "callback_delay": 0.05},
        timeout=5,
    )
    booking = BookingFactory()
    client = APIClient()
    client.force_authenticate(booking.client)
    # when: the SPA pays with its fixed account_reference
    response = client.post(
        "/api/payment/mpesa/stk-push",
        {
            "phone_number": "0708374149",
            "booking_id": booking.pk,
            "account_reference": "HakiYetu",
        },
        format="json",
    )
    assert response.status_code == 201
    receipt = _wait_for(lambda: _seen_twice())
    # then: one receipt, both sightings, the booking paid once
    payment = Payment.objects.get(booking=booking)
    assert payment.status == Payment.Status.COMPLETED
    assert receipt.payment_id == payment.pk
    assert sorted(receipt.sightings.values_list("source", flat=True)) == [
        "c2b_confirmation",
        "stk_callback",
    ]
    assert receipt.account_reference in ("", booking.reference)
    assert Booking.objects.get(pk=booking.pk).payment_status == "paid"


def _seen_twice() -> MpesaReceipt | None:
    receipt = MpesaReceipt.objects.first()
    if receipt is None or receipt.sightings.count() < 2 or receipt.payment_id is None:
        return None
    return receipt


def _wait_for(probe, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("not seen in time")
