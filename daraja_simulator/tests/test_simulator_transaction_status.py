"""Transaction Status: any receipt the simulator knows, or an earlier
request by its conversation id."""

from daraja_simulator.tests.fixtures import receiver_fixture  # noqa: F401
from daraja_simulator.tests.initiator_fixtures import (  # noqa: F401 - fixtures
    initiator_fixture,
    money_sim_fixture,
    parameters,
    results_fixture,
)


def test_status_of_a_paid_receipt_is_completed(initiator, results):
    # given an STK payment
    receipt = initiator.paid_receipt(3000)
    # when its status is asked
    ack = initiator.status(TransactionID=receipt).json()
    # then the result describes it
    result = results.results()[0]
    assert result["ResultCode"] == 0
    assert result["ConversationID"] == ack["ConversationID"]
    params = parameters(result)
    assert params["ReceiptNo"] == receipt
    assert params["TransactionStatus"] == "Completed"
    assert params["Amount"] == 3000.0
    assert {"InitiatedTime", "FinalisedTime", "DebitPartyName", "CreditPartyName"} <= (
        set(params)
    )


def test_status_of_a_reversed_receipt_says_reversed(initiator, results):
    receipt = initiator.paid_receipt(3000)
    initiator.reverse(receipt, 3000)
    reversal = results.results()[0]
    initiator.status(TransactionID=receipt)
    initiator.status(TransactionID=reversal["TransactionID"])
    original, own = results.results(3)[1:]
    assert parameters(original)["TransactionStatus"] == "Reversed"
    assert parameters(own)["TransactionStatus"] == "Completed"
    assert parameters(own)["ReasonType"] == "Reversal"


def test_status_of_a_b2c_receipt(initiator, results):
    initiator.b2c(500)
    paid = results.results()[0]
    initiator.status(TransactionID=paid["TransactionID"])
    params = parameters(results.results(2)[1])
    assert params["Amount"] == 500.0
    assert params["TransactionStatus"] == "Completed"


def test_status_by_original_conversation_id(initiator, results):
    # given a reversal whose result we never read
    receipt = initiator.paid_receipt(3000)
    ack = initiator.reverse(receipt, 3000).json()
    reversal = results.results()[0]
    # when asked by the request's ConversationID
    initiator.status(OriginalConversationID=ack["ConversationID"])
    # then the answer names the reversal's receipt
    params = parameters(results.results(2)[1])
    assert params["ReceiptNo"] == reversal["TransactionID"]


def test_status_of_an_unknown_receipt_is_a_failure(initiator, results):
    initiator.status(TransactionID="NLJ0000000")
    result = results.results()[0]
    assert result["ResultCode"] == "R000002"
    assert "ResultParameters" not in result


def test_status_of_a_failed_request_finds_nothing(initiator, results):
    # given a reversal refused for its credential
    receipt = initiator.paid_receipt(3000)
    ack = initiator.reverse(receipt, 3000, password="wrong").json()
    results.results()
    # then no money is found under it
    initiator.status(OriginalConversationID=ack["ConversationID"])
    assert results.results(2)[1]["ResultCode"] == "R000002"


def test_status_needs_a_receipt_or_a_conversation(initiator):
    answer = initiator.status()
    assert answer.status_code == 400
    assert answer.json()["errorMessage"] == "Bad Request - Invalid TransactionID"


def test_status_with_a_wrong_password_is_2001(initiator, results):
    receipt = initiator.paid_receipt(3000)
    initiator.status(TransactionID=receipt, password="wrong")
    assert results.results()[0]["ResultCode"] == 2001
