"""Our Daraja client against the in-process simulator, end to end: an STK
payment, its reversal, a B2C refund and Transaction Status, each result
POSTed by the simulator to a local receiver and read by our parser."""

from collections.abc import Iterator

import pytest

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
from payments.daraja.exceptions import DarajaOutcomeUnknown, DarajaRejected
from payments.daraja.results import (
    b2c_fields,
    parse_async_result,
    reversal_fields,
    transaction_status_fields,
)

PASSWORD = "Local-Initiator#2026"


@pytest.fixture
def client(settings, receiver, results) -> Iterator:
    server = start_simulator(
        result_delay=0.02, initiator_password=PASSWORD, b2c_initiator_password=PASSWORD
    )
    use_simulator(settings, server)
    settings.MPESA_CALLBACK_URL = receiver.url
    settings.MPESA_INITIATOR_NAME = "testapi"
    settings.MPESA_INITIATOR_PASSWORD = PASSWORD
    settings.MPESA_CERTIFICATE_PATH = "daraja_simulator/keys/simulator-cert.pem"
    settings.MPESA_RESULT_URL = results.result_url
    settings.MPESA_QUEUE_TIMEOUT_URL = results.timeout_url
    settings.MPESA_B2C_SHORT_CODE = "600000"
    settings.MPESA_B2C_INITIATOR_NAME = "testapi"
    settings.MPESA_B2C_INITIATOR_PASSWORD = PASSWORD
    settings.MPESA_READ_TIMEOUT = 1.0
    yield get_client(), server
    server.stop()


def _paid_receipt(client, receiver: CallbackReceiver, amount: int) -> str:
    client.stk_push(
        phone_number="0708374149",
        amount=amount,
        account_reference="HYAB3CDE",
        transaction_desc="Consultation",
    )
    body = wait_until(lambda: receiver.bodies and receiver.bodies[-1])
    items = body["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    return next(i["Value"] for i in items if i["Name"] == "MpesaReceiptNumber")


def _result(results: ResultReceiver, count: int, kind: str = "result"):
    results.results(count, kind)
    bodies = [body for k, body in results.posts if k == kind]
    return parse_async_result(bodies[count - 1], timeout=kind == "timeout")


def test_reversal_end_to_end(client, receiver, results):
    # given a payment the simulator took
    daraja, _ = client
    receipt = _paid_receipt(daraja, receiver, 1500)

    # when our client reverses it
    accepted = daraja.reversal(
        transaction_id=receipt,
        amount=1500,
        originator_conversation_id="hy-rf-000001-1",
        remarks="Refund for HYAB3CDE",
    )

    # then the result reaches the ResultURL and reads as a whole reversal
    result = _result(results, 1)
    assert result.is_success is True
    assert result.conversation_id == accepted.conversation_id
    assert result.originator_conversation_id == "hy-rf-000001-1"
    fields = reversal_fields(result)
    assert fields.original_transaction_id == receipt
    assert fields.amount == 1500
    assert fields.completed_at is not None


def test_status_after_a_queue_timeout_shows_the_reversal(client, receiver, results):
    # given a reversal whose result times out in the queue
    daraja, server = client
    receipt = _paid_receipt(daraja, receiver, 2000)
    server.state.faults.add(
        rule_from_json({"fault": "queue_timeout", "endpoint": "reversal"})
    )
    accepted = daraja.reversal(
        transaction_id=receipt,
        amount=2000,
        originator_conversation_id="hy-rf-000002-1",
        remarks="Refund",
    )
    notice = _result(results, 1, "timeout")
    assert notice.is_timeout is True

    # when Transaction Status asks about the request
    daraja.transaction_status(
        original_conversation_id=accepted.conversation_id,
        originator_conversation_id="hy-ts-000002-1",
    )

    # then M-Pesa's answer shows the money went back
    status = transaction_status_fields(_result(results, 1))
    assert status.is_completed is True
    assert status.amount == 2000
    assert status.receipt_no != receipt


def test_b2c_end_to_end(client, results):
    daraja, _ = client
    daraja.b2c_payment(
        originator_conversation_id="hy-rf-000003-1",
        phone_number="0708374149",
        amount=500,
        remarks="Partial refund",
    )
    fields = b2c_fields(_result(results, 1))
    assert fields.amount == 500
    assert fields.receiver_party_public_name.startswith("254708374149")


def test_wrong_password_comes_back_as_2001(client, receiver, results, settings):
    daraja, _ = client
    receipt = _paid_receipt(daraja, receiver, 100)
    settings.MPESA_INITIATOR_PASSWORD = "not-it"
    get_client().reversal(
        transaction_id=receipt,
        amount=100,
        originator_conversation_id="hy-rf-000004-1",
        remarks="Refund",
    )
    assert _result(results, 1).result_code == "2001"


def test_a_slow_reversal_is_unknown_and_still_happens(client, receiver, results):
    # given Daraja does the reversal but answers after our read timeout
    daraja, server = client
    receipt = _paid_receipt(daraja, receiver, 300)
    server.state.faults.add(
        rule_from_json({"fault": "slow", "endpoint": "reversal", "seconds": 2})
    )

    # when our client asks for it
    with pytest.raises(DarajaOutcomeUnknown):
        daraja.reversal(
            transaction_id=receipt,
            amount=300,
            originator_conversation_id="hy-rf-000005-1",
            remarks="Refund",
        )

    # then the money went back all the same: only the result can say so
    assert _result(results, 1).is_success is True
    assert server.state.ledger(with_payments=False)["reversal_amount"] == 300


def test_a_duplicate_originator_answer_is_a_rejection_that_says_so(client):
    # given Daraja answers as for an OriginatorConversationID it has seen
    daraja, server = client
    server.state.faults.add(
        rule_from_json({"fault": "duplicate_originator", "endpoint": "b2c"})
    )

    # when our client pays by B2C
    with pytest.raises(DarajaRejected) as caught:
        daraja.b2c_payment(
            originator_conversation_id="hy-rf-000006-1",
            phone_number="0708374149",
            amount=500,
            remarks="Partial refund",
        )

    # then the rejection says the earlier request's outcome stands
    assert caught.value.is_duplicate_originator is True
    assert server.state.ledger(with_payments=False)["b2c_amount"] == 0
