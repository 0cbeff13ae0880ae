"""Refunds against the in-process Daraja simulator, through our real client:
``refund_submit`` sends the Reversal, the simulator posts its result (or
queue time-out notice) to a local receiver, and each body is POSTed on to
our own result or time-out URL as Daraja would; the refunds sweep asks
Transaction Status about what stays unknown."""

import json
from collections.abc import Iterator

import pytest

from bookings.models import Booking
from daraja_simulator.faults import rule_from_json
from daraja_simulator.tests.fixtures import (  # noqa: F401 - fixtures
    CallbackReceiver,
    receiver_fixture,
    start_simulator,
    use_simulator,
    wait_until,
)
from daraja_simulator.tests.initiator_fixtures import (  # noqa: F401 - fixtures
    ResultReceiver,
    results_fixture,
)
from payments.daraja.client import get_client
from payments.models import MpesaReceipt, Refund, TransactionStatusCheck
from payments.services.refund_submission import refund_submit
from payments.services.refund_sweep import refunds_reconcile
from payments.tests.conftest import result_url
from payments.tests.refund_support import cancelled_paid_booking_receipt
from payments.tests.result_support import approved_refund

pytestmark = pytest.mark.django_db
PASSWORD = "Local-Initiator#2026"
Status = Refund.Status


@pytest.fixture
def simulator(settings, receiver, results) -> Iterator:
    server = start_simulator(result_delay=0.02, initiator_password=PASSWORD)
    use_simulator(settings, server)
    settings.MPESA_CALLBACK_URL = receiver.url
    settings.MPESA_INITIATOR_NAME = "testapi"
    settings.MPESA_INITIATOR_PASSWORD = PASSWORD
    settings.MPESA_CERTIFICATE_PATH = "daraja_simulator/keys/simulator-cert.pem"
    settings.MPESA_RESULT_URL = results.result_url
    settings.MPESA_QUEUE_TIMEOUT_URL = results.timeout_url
    settings.MPESA_READ_TIMEOUT = 1.0
    yield server
    server.stop()


def _paid_and_cancelled(receiver: CallbackReceiver, amount: int) -> MpesaReceipt:
    """A booking the simulator took ``amount`` for by STK, then cancelled:
    its receipt in our ledger."""
    get_client().stk_push(
        phone_number="0708374149",
        amount=amount,
        account_reference="HYAB3CDE",
        transaction_desc="Consultation",
    )
    body = wait_until(lambda: receiver.bodies and receiver.bodies[-1])
    items = body["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    number = next(i["Value"] for i in items if i["Name"] == "MpesaReceiptNumber")
    return cancelled_paid_booking_receipt(number, amount=amount)


def _forward(api_client, results: ResultReceiver, count: int, kind: str = "result"):
    """POST the simulator's ``count``-th body of ``kind`` to our URL."""
    results.results(count, kind)
    body = [b for k, b in results.posts if k == kind][count - 1]
    endpoint = "timeout" if kind == "timeout" else "result"
    response = api_client.generic(
        "POST", result_url(endpoint), json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200
    return response


def test_reversal_through_the_simulator_refunds_the_booking(
    simulator, receiver, results, api_client
):
    # given a cancelled paid booking, and its refund approved
    receipt = _paid_and_cancelled(receiver, 1500)
    refund = approved_refund(receipt)

    # when it is submitted and the simulator's result reaches our URL
    refund = refund_submit(refund_id=refund.pk)
    assert refund.status == Status.SUBMITTED
    assert refund.conversation_id.startswith("AG_")
    _forward(api_client, results, 1)

    # then the money went back: refund, receipt, booking and ledger agree
    refund.refresh_from_db()
    receipt.refresh_from_db()
    assert refund.status == Status.COMPLETED
    assert receipt.allocation == MpesaReceipt.Allocation.REFUNDED
    booking = Booking.objects.get(pk=refund.booking_id)
    assert booking.payment_status == Booking.PaymentStatus.REFUNDED
    out = refund.outgoing_receipt
    assert (out.direction, out.amount) == (MpesaReceipt.Direction.OUT, 1500)
    assert simulator.state.ledger(with_payments=False)["reversal_amount"] == 1500


def test_queue_timeout_then_transaction_status_completes(
    simulator, receiver, results, api_client
):
    # given a reversal whose result times out in the simulator's queue
    receipt = _paid_and_cancelled(receiver, 2000)
    refund = approved_refund(receipt)
    simulator.state.faults.add(
        rule_from_json({"fault": "queue_timeout", "endpoint": "reversal"})
    )
    refund_submit(refund_id=refund.pk)

    # when the notice reaches our time-out URL
    _forward(api_client, results, 1, "timeout")
    refund.refresh_from_db()
    assert refund.status == Status.UNKNOWN

    # and the sweep asks Transaction Status, whose answer reaches us
    summary = refunds_reconcile()
    assert summary.status_checks == 1
    _forward(api_client, results, 1)

    # then the refund completed with the reversal's own receipt
    refund.refresh_from_db()
    check = TransactionStatusCheck.objects.get(refund=refund)
    assert check.state == TransactionStatusCheck.State.ANSWERED
    assert refund.status == Status.COMPLETED
    assert refund.refund_receipt_number not in ("", receipt.receipt_number)


def test_wrong_initiator_password_fails_with_2001(
    simulator, receiver, results, api_client, settings
):
    # given our initiator password is not the simulator's
    receipt = _paid_and_cancelled(receiver, 700)
    refund = approved_refund(receipt)
    settings.MPESA_INITIATOR_PASSWORD = "not-it"

    # when it is submitted and the result comes
    refund_submit(refund_id=refund.pk)
    _forward(api_client, results, 1)

    # then the refund failed with 2001, nothing went back
    refund.refresh_from_db()
    assert (refund.status, refund.result_code) == (Status.FAILED, "2001")
    assert simulator.state.ledger(with_payments=False)["reversal_amount"] == 0


def test_duplicate_result_is_applied_once(simulator, receiver, results, api_client):
    # given the simulator posts the result twice
    receipt = _paid_and_cancelled(receiver, 900)
    refund = approved_refund(receipt)
    simulator.state.faults.add(
        rule_from_json({"fault": "duplicate_result", "endpoint": "reversal"})
    )
    refund_submit(refund_id=refund.pk)

    # when both reach our URL
    _forward(api_client, results, 1)
    _forward(api_client, results, 2)

    # then one outgoing receipt
    refund.refresh_from_db()
    assert refund.status == Status.COMPLETED
    assert MpesaReceipt.objects.filter(direction="out").count() == 1


def test_a_second_reversal_of_a_reversed_receipt_completes_on_r000001(
    simulator, receiver, results, api_client
):
    # given the receipt was reversed already (by hand on the portal, say)
    receipt = _paid_and_cancelled(receiver, 400)
    get_client().reversal(
        transaction_id=receipt.receipt_number,
        amount=400,
        originator_conversation_id="by-hand-1",
        remarks="Manual",
    )
    results.results(1)
    refund = approved_refund(receipt)

    # when our refund is sent and M-Pesa answers R000001
    refund_submit(refund_id=refund.pk)
    _forward(api_client, results, 2)

    # then the money is back: completed
    refund.refresh_from_db()
    assert (refund.status, refund.result_code) == (Status.COMPLETED, "R000001")
