"""A whole payment flow, logged at DEBUG: no secret and no full phone number
reaches the log output.

Real pieces throughout: our client talks HTTP to the in-process Daraja
simulator, which posts real callbacks to a live server running our views.
"""

import logging
import time

import pytest
import requests
from django.utils import timezone
from rest_framework.test import APIClient

from bookings.tests.factories import BookingFactory
from core.logging_filters import MaskPhoneNumbers
from daraja_simulator import SimulatorConfig, SimulatorServer
from payments.models import Payment
from payments.services.reconciliation import payment_query

pytestmark = pytest.mark.django_db(transaction=True)
KEY, SECRET, PASSKEY = "key-f00d1e", "consumer-secret-9a8b7c", "passkey-5e5e5e"
CALLBACK_SECRET = "callback-secret-42x"
PHONES = ("254708374149", "254711000123")


@pytest.fixture
def stack(settings, live_server):
    server = SimulatorServer(
        SimulatorConfig(
            consumer_key=KEY,
            consumer_secret=SECRET,
            short_code="174379",
            passkey=PASSKEY,
            port=0,
            callback_delay=0.3,
            seed=3,
        )
    )
    server.start()
    settings.MPESA_BASE_URL = server.base_url
    settings.MPESA_CONSUMER_KEY = KEY
    settings.MPESA_CONSUMER_SECRET = SECRET
    settings.MPESA_BUSINESS_SHORT_CODE = "174379"
    settings.MPESA_PASSKEY = PASSKEY
    settings.MPESA_CALLBACK_SECRET = CALLBACK_SECRET
    settings.MPESA_CALLBACK_URL = (
        f"{live_server.url}/api/payment/callback/{CALLBACK_SECRET}"
    )
    yield server
    server.stop()


def pay(phone: str) -> Payment:
    booking = BookingFactory(
        start=timezone.now() + timezone.timedelta(days=2, hours=len(phone))
    )
    client = APIClient()
    client.force_authenticate(booking.client)
    response = client.post(
        "/api/payment/mpesa/stk-push",
        {"phone_number": phone, "booking_id": booking.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    return Payment.objects.get(pk=response.json()["payment_id"])


def wait_for_final(payment: Payment, simulator: SimulatorServer) -> Payment:
    """Wait on the simulator, not the database: SQLite's shared in-memory
    test database refuses a read while the live server writes."""
    deadline = time.monotonic() + 10
    url = f"{simulator.base_url}/simulator/callbacks"
    while time.monotonic() < deadline:
        callbacks = requests.get(url, timeout=5).json()["callbacks"]
        if any(
            c["CheckoutRequestID"] == payment.checkout_request_id
            and c["state"] == "delivered"
            for c in callbacks
        ):
            payment.refresh_from_db()
            return payment
        time.sleep(0.05)
    raise AssertionError(f"no callback delivered for payment {payment.pk}")


def test_full_flow_logs_no_secret_and_no_full_phone(stack, caplog):
    # given
    caplog.set_level(logging.DEBUG)
    issued = []  # the simulator's own logs mask tokens: note them as issued
    issue_token = stack.state.issue_token
    stack.state.issue_token = lambda: issued.append(issue_token()) or issued[-1]
    # when: a paid and a cancelled payment, status polls and a re-query
    paid, cancelled = (wait_for_final(pay(phone), stack) for phone in PHONES)
    for payment in (paid, cancelled):
        payment_query(payment_id=payment.pk)
    requests.get(f"{stack.base_url}/simulator/ledger", timeout=5)
    # then
    assert paid.status == Payment.Status.COMPLETED
    assert cancelled.status == Payment.Status.FAILED
    tokens = set(issued)
    emitted = []
    for record in caplog.records:
        MaskPhoneNumbers().filter(record)  # what our handlers apply
        emitted.append(record.getMessage())
    text = "\n".join(emitted)
    assert len(emitted) > 10
    assert tokens, "the simulator saw bearer tokens"
    for secret in (SECRET, PASSKEY, CALLBACK_SECRET, *tokens):
        assert secret not in text
    for phone in PHONES:
        # Nor the MSISDN's last 9 digits that CheckoutRequestIDs end with.
        assert phone[3:] not in text
