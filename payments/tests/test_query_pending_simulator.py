"""``manage.py query_pending`` against the Daraja simulator, in-process on
a free port: our real client, real HTTP, scripted outcomes."""

import io
import json
import time
from collections.abc import Iterator

import pytest
import requests
from django.core.management import call_command

from daraja_simulator import SimulatorServer
from daraja_simulator.tests.fixtures import start_simulator, use_simulator
from payments.daraja.client import get_client
from payments.models import Payment
from payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db
Status = Payment.Status
# Nothing listens here: the callbacks are not what these tests look at.
CALLBACK_URL = "http://127.0.0.1:9/hooks/cb/t0k"
SUCCESS, NO_MONEY, WRONG_PIN, UNREACHABLE = (
    "254708374149",
    "254700000001",
    "254700002001",
    "254700001037",
)
CANCELLED = "254711000111"


@pytest.fixture
def simulator(settings) -> Iterator[SimulatorServer]:
    server = start_simulator(
        late_callback_delay=60, lock_subscriber=False, callback_timeout=0.5
    )
    use_simulator(settings, server)
    settings.MPESA_CALLBACK_URL = CALLBACK_URL
    settings.MPESA_QUERY_RATE_PER_SECOND = 1000
    yield server
    server.stop()


def _control(server: SimulatorServer, name: str, body: dict) -> dict:
    url = f"{server.base_url}/simulator/{name}"
    return requests.post(url, json=body, timeout=5).json()


def _pushed(phone: str) -> Payment:
    """A pending payment whose STK push the simulator really accepted."""
    ack = get_client().stk_push(
        phone_number=phone,
        amount=3000,
        account_reference="HY B1",
        transaction_desc="Consultation",
        callback_url=CALLBACK_URL,
    )
    return PaymentFactory(
        phone_number=phone,
        checkout_request_id=ack.checkout_request_id,
        merchant_request_id=ack.merchant_request_id,
    )


def _decided(server: SimulatorServer, payment: Payment) -> None:
    """Wait until the simulator has an outcome for the payment."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        ledger = requests.get(f"{server.base_url}/simulator/ledger", timeout=5).json()
        row = next(
            p
            for p in ledger["payments"]
            if p["CheckoutRequestID"] == payment.checkout_request_id
        )
        if row["status"] != "processing":
            return
        time.sleep(0.02)
    raise AssertionError("the simulator did not decide in time")


def _run(*args: str) -> dict:
    out = io.StringIO()
    call_command(
        "query_pending",
        "--older-than=0",
        "--concurrency=1",
        "--json",
        *args,
        stdout=out,
        stderr=io.StringIO(),
    )
    return json.loads(out.getvalue())


def _status(payment: Payment) -> str:
    payment.refresh_from_db()
    return payment.status


def test_query_pending_completes_payment_simulator_says_paid(simulator):
    # given
    payment = _pushed(SUCCESS)
    _decided(simulator, payment)

    # when
    document = _run()

    # then
    assert _status(payment) == Status.COMPLETED
    assert document["summary"]["completed"] == 1
    assert payment.events.filter(operation="stk_query", http_status=200).exists()


@pytest.mark.parametrize(
    ("phone", "code"),
    [(NO_MONEY, "1"), (WRONG_PIN, "2001"), (CANCELLED, "1032"), (UNREACHABLE, "1037")],
)
def test_query_pending_fails_payment_with_simulator_code(simulator, phone, code):
    # given
    payment = _pushed(phone)
    _decided(simulator, payment)

    # when
    document = _run()

    # then
    assert _status(payment) == Status.FAILED
    assert payment.result_code == code
    assert document["summary"]["failed"] == 1


def test_query_pending_leaves_undecided_payment_pending(simulator):
    # given: the customer takes a minute to answer
    _control(simulator, "scenarios", {"phone": SUCCESS, "result_code": 0, "delay": 60})
    payment = _pushed(SUCCESS)

    # when
    document = _run()

    # then
    assert _status(payment) == Status.PENDING
    assert document["summary"]["still_pending"] == 1


def test_query_pending_reports_error_when_query_endpoint_fails(simulator):
    # given
    payment = _pushed(SUCCESS)
    _decided(simulator, payment)
    _control(
        simulator,
        "faults",
        {"fault": "http_error", "endpoint": "query", "status": 503, "count": 20},
    )

    # when
    document = _run()

    # then
    assert _status(payment) == Status.PENDING
    assert document["summary"]["errors"] == 1


def test_query_pending_settles_a_mixed_batch(simulator):
    # given
    paid, cancelled = _pushed(SUCCESS), _pushed(CANCELLED)
    _decided(simulator, paid)
    _decided(simulator, cancelled)

    # when
    document = _run()

    # then
    assert (_status(paid), _status(cancelled)) == (Status.COMPLETED, Status.FAILED)
    assert document["summary"]["examined"] == 2


def test_query_pending_dry_run_against_simulator_changes_nothing(simulator):
    # given
    payment = _pushed(SUCCESS)
    _decided(simulator, payment)

    # when
    document = _run("--dry-run")

    # then
    assert _status(payment) == Status.PENDING
    assert document["outcomes"][0]["answer"] == "completed"
    assert not payment.events.exists()
