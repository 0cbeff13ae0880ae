"""Reversal: the acknowledgement, the result at the ResultURL, and the
checks on the original receipt and the credential."""

import pytest
import requests

from daraja_simulator.tests.fixtures import receiver_fixture  # noqa: F401
from daraja_simulator.tests.initiator_fixtures import (  # noqa: F401 - fixtures
    initiator_fixture,
    money_sim_fixture,
    parameters,
    results_fixture,
)


def test_reversal_is_acknowledged_then_its_result_is_posted(initiator, results):
    # given a receipt the simulator paid
    receipt = initiator.paid_receipt(3000)

    # when it is reversed
    answer = initiator.reverse(receipt, 3000)

    # then Daraja's acknowledgement comes at once
    ack = answer.json()
    assert answer.status_code == 200
    assert ack["OriginatorConversationID"] == "hy-rf-1"
    assert ack["ConversationID"].startswith("AG_")
    assert ack["ResponseCode"] == "0"
    assert ack["ResponseDescription"] == "Accept the service request successfully"
    # and the result follows, with the reversal's own receipt
    result = results.results()[0]
    assert result["ResultCode"] == 0
    assert result["ConversationID"] == ack["ConversationID"]
    assert result["TransactionID"] not in ("", receipt)
    params = parameters(result)
    assert params["OriginalTransactionID"] == receipt
    assert params["Amount"] == 3000.0
    assert set(params) >= {
        "DebitAccountBalance",
        "TransCompletedTime",
        "Charge",
        "CreditPartyPublicName",
        "DebitPartyPublicName",
    }


def test_reversal_of_a_receipt_it_never_paid_is_r000002(initiator, results):
    initiator.reverse("NLJ0000000", 3000)
    result = results.results()[0]
    assert result["ResultCode"] == "R000002"
    assert "ResultParameters" not in result


def test_a_second_reversal_of_a_receipt_is_r000001(initiator, results):
    # given a receipt reversed once
    receipt = initiator.paid_receipt(3000)
    initiator.reverse(receipt, 3000, originator="hy-rf-1")
    # when it is reversed again under another id
    initiator.reverse(receipt, 3000, originator="hy-rf-2")
    # then the second says "already reversed", and money went out once (the
    # two results are posted by separate threads: match them by request id)
    codes = {r["OriginatorConversationID"]: r["ResultCode"] for r in results.results(2)}
    assert codes == {"hy-rf-1": 0, "hy-rf-2": "R000001"}
    assert initiator.control("GET", "money-out")["reversal_count"] == 1


def test_reversal_of_another_amount_is_refused(initiator, results):
    receipt = initiator.paid_receipt(3000)
    initiator.reverse(receipt, 1000)
    assert results.results()[0]["ResultCode"] == "R000003"
    assert initiator.control("GET", "money-out")["money_out_amount"] == 0


def test_reversal_with_a_wrong_initiator_password_is_2001(initiator, results):
    receipt = initiator.paid_receipt(3000)
    answer = initiator.reverse(receipt, 3000, password="not-the-password")
    assert answer.json()["ResponseCode"] == "0"  # refused in the result
    result = results.results()[0]
    assert result["ResultCode"] == 2001
    assert result["ResultDesc"] == "The initiator information is invalid."


def test_reversal_with_a_garbled_credential_is_2001(initiator, results):
    receipt = initiator.paid_receipt(3000)
    initiator.reverse(receipt, 3000, SecurityCredential="bm90IHJzYQ==")
    assert results.results()[0]["ResultCode"] == 2001


def test_reversal_of_a_paybill_receipt_works(initiator, results):
    # given a paybill payment
    register = {
        "ShortCode": "174379",
        "ResponseType": "Completed",
        "ConfirmationURL": initiator.callback_url,
        "ValidationURL": initiator.callback_url,
    }
    initiator.post("/mpesa/c2b/v1/registerurl", register)
    paid = initiator.control(
        "POST", "c2b/pay", {"phone": "254708374149", "amount": 700}
    )
    # when its receipt is reversed
    initiator.reverse(paid["receipt"], 700)
    # then it succeeds
    assert results.results()[0]["ResultCode"] == 0


def test_the_correctly_spelt_receiver_type_is_refused(initiator):
    # given Daraja's misspelling replaced by the right one
    body = initiator.reversal_body("NLJ0000000")
    body["ReceiverIdentifierType"] = body.pop("RecieverIdentifierType")
    # when sent
    answer = initiator.post("/mpesa/reversal/v1/request", body)
    # then it is Daraja's known refusal
    assert answer.status_code == 400
    assert (
        answer.json()["errorMessage"] == "Bad Request - Invalid RecieverIdentifierType"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"Initiator": ""}, "Initiator"),
        ({"SecurityCredential": ""}, "SecurityCredential"),
        ({"CommandID": "Reversal"}, "CommandID"),
        ({"TransactionID": "nl j"}, "TransactionID"),
        ({"Amount": 0}, "Amount"),
        ({"Amount": "10.5"}, "Amount"),
        ({"ReceiverParty": "17"}, "ReceiverParty"),
        ({"Remarks": "x"}, "Remarks"),
        ({"ResultURL": "not a url"}, "ResultURL"),
        ({"QueueTimeOutURL": ""}, "QueueTimeOutURL"),
    ],
)
def test_reversal_fields_are_checked(initiator, change, field):
    body = initiator.reversal_body("NLJ0000000") | change
    answer = initiator.post("/mpesa/reversal/v1/request", body)
    assert answer.status_code == 400
    assert answer.json()["errorCode"] == "400.002.02"
    assert answer.json()["errorMessage"] == f"Bad Request - Invalid {field}"


def test_reversal_needs_a_bearer_token(initiator):
    answer = requests.post(
        initiator.base_url + "/mpesa/reversal/v1/request",
        json=initiator.reversal_body("NLJ0000000"),
        timeout=5,
    )
    assert answer.status_code == 404
    assert answer.json()["errorCode"] == "404.001.04"


def test_a_repeated_originator_id_moves_money_once(initiator, results):
    # given a reversal
    receipt = initiator.paid_receipt(3000)
    first = initiator.reverse(receipt, 3000, originator="hy-rf-9").json()
    results.results()
    # when the same request is sent again (same OriginatorConversationID)
    second = initiator.reverse(receipt, 3000, originator="hy-rf-9").json()
    # then it gets the same acknowledgement, no new result, and no money
    assert second["ConversationID"] == first["ConversationID"]
    money = initiator.control("GET", "money-out")
    assert money["reversal_count"] == 1
    assert len(money["requests"]) == 1
