"""Reversal, B2C and Transaction Status: the bodies sent, the credential,
and the money rule (never retried; sent without answer = outcome unknown)."""

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from daraja_simulator.credential import decrypt_credential
from payments.daraja.exceptions import (
    DarajaCertificateError,
    DarajaConfigurationError,
    DarajaOutcomeUnknown,
    DarajaRejected,
    DarajaUnavailable,
    DarajaValidationError,
)
from payments.tests.daraja.initiator_support import (
    B2C_PASSWORD,
    B2C_SHORT_CODE,
    B2C_URL,
    INITIATOR_PASSWORD,
    RECEIPT,
    RESULT_URL,
    REVERSAL_URL,
    STATUS_URL,
    TIMEOUT_URL,
    make_initiator_client,
    sent_body,
)
from payments.tests.daraja.support import add_token, calls_to, load


@pytest.fixture
def client(cache, sleep):
    return make_initiator_client(cache, sleep)


def _reverse(client, **overrides):
    values = {
        "transaction_id": "nlj41hah7l",
        "amount": 1500,
        "originator_conversation_id": "hy-rf-000042-1",
        "remarks": "Refund for booking HYAB3CDE",
    }
    values.update(overrides)
    return client.reversal(**values)


def _b2c(client, **overrides):
    values = {
        "originator_conversation_id": "hy-rf-000043-1",
        "phone_number": "0708 374 149",
        "amount": 500,
        "remarks": "Partial refund",
    }
    values.update(overrides)
    return client.b2c_payment(**values)


def _refused() -> requests.ConnectionError:
    reason = NewConnectionError(None, "Failed to establish a new connection")
    return requests.ConnectionError(MaxRetryError(None, REVERSAL_URL, reason))


# --- Reversal ------------------------------------------------------------------


def test_reversal_sends_daraja_fields_with_the_misspelt_receiver_type(rsps, client):
    # given Daraja accepts the reversal
    add_token(rsps)
    rsps.post(REVERSAL_URL, json=load("async_accepted"))

    # when a receipt is reversed
    accepted = _reverse(client)

    # then the body has Daraja's names, our id and the shortcode as receiver
    body = sent_body(calls_to(rsps, REVERSAL_URL)[0])
    credential = body.pop("SecurityCredential")
    assert body == {
        "OriginatorConversationID": "hy-rf-000042-1",
        "Initiator": "hakiyetu_api",
        "CommandID": "TransactionReversal",
        "TransactionID": RECEIPT,
        "Amount": 1500,
        "ReceiverParty": 174379,
        "RecieverIdentifierType": "11",
        "ResultURL": RESULT_URL,
        "QueueTimeOutURL": TIMEOUT_URL,
        "Remarks": "Refund for booking HYAB3CDE",
        "Occasion": "",
    }
    assert decrypt_credential(credential) == INITIATOR_PASSWORD
    assert accepted.conversation_id == "AG_20191219_00004e48cf7e3533f581"
    assert accepted.response_code == "0"


def test_reversal_is_not_retried_after_a_read_timeout(rsps, client, sleep):
    # given the reversal left, and no answer came back
    add_token(rsps)
    rsps.post(REVERSAL_URL, body=requests.ReadTimeout("read timed out"))

    # when the reversal is asked for
    with pytest.raises(DarajaOutcomeUnknown) as caught:
        _reverse(client)

    # then the outcome is unknown and it was sent exactly once
    assert caught.value.operation == "reversal"
    assert len(calls_to(rsps, REVERSAL_URL)) == 1
    assert sleep.delays == []


def test_reversal_with_a_connection_dropped_after_sending_is_unknown(rsps, client):
    add_token(rsps)
    rsps.post(
        REVERSAL_URL,
        body=requests.ConnectionError(ConnectionResetError("Connection reset")),
    )
    with pytest.raises(DarajaOutcomeUnknown):
        _reverse(client)
    assert len(calls_to(rsps, REVERSAL_URL)) == 1


def test_reversal_refused_connection_is_unavailable_and_not_retried(
    rsps, client, sleep
):
    # given nothing can connect
    add_token(rsps)
    rsps.post(REVERSAL_URL, body=_refused())

    # when the reversal is asked for
    with pytest.raises(DarajaUnavailable):
        _reverse(client)

    # then nothing was sent (safe) and nothing retried
    assert len(calls_to(rsps, REVERSAL_URL)) == 1
    assert sleep.delays == []


def test_reversal_busy_gateway_is_unavailable_and_not_retried(rsps, client, sleep):
    add_token(rsps)
    rsps.post(REVERSAL_URL, status=503, body="<html>503</html>")
    with pytest.raises(DarajaUnavailable):
        _reverse(client)
    assert len(calls_to(rsps, REVERSAL_URL)) == 1
    assert sleep.delays == []


def test_reversal_500_without_error_code_is_unknown(rsps, client):
    # given a proxy error that may have come after Daraja got it
    add_token(rsps)
    rsps.post(REVERSAL_URL, status=500, body="<html>Internal error</html>")

    # then the outcome is unknown
    with pytest.raises(DarajaOutcomeUnknown):
        _reverse(client)


def test_reversal_2001_error_code_is_rejected(rsps, client):
    # given Daraja refuses the credential synchronously
    add_token(rsps)
    rsps.post(REVERSAL_URL, status=400, json=load("initiator_invalid_credential"))

    # then it is a rejection with Daraja's code
    with pytest.raises(DarajaRejected) as caught:
        _reverse(client)
    assert caught.value.error_code == "2001"


def test_reversal_accepted_without_conversation_id_is_unknown(rsps, client):
    add_token(rsps)
    rsps.post(REVERSAL_URL, json={"ResponseCode": "0"})
    with pytest.raises(DarajaOutcomeUnknown):
        _reverse(client)


def test_reversal_with_response_code_not_zero_is_rejected(rsps, client):
    add_token(rsps)
    body = load("async_accepted") | {"ResponseCode": "1", "ResponseDescription": "No"}
    rsps.post(REVERSAL_URL, json=body)
    with pytest.raises(DarajaRejected) as caught:
        _reverse(client)
    assert caught.value.error_code == "1"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"transaction_id": "NLJ 41"}, "transaction_id"),
        ({"amount": 0}, "amount"),
        ({"amount": 1500.5}, "amount"),
        ({"amount": 250_001}, "amount"),
        ({"originator_conversation_id": ""}, "originator_conversation_id"),
        ({"originator_conversation_id": "a b"}, "originator_conversation_id"),
        ({"remarks": "x"}, "remarks"),
        ({"remarks": "r" * 101}, "remarks"),
        ({"occasion": "o" * 101}, "occasion"),
    ],
)
def test_reversal_refuses_bad_input_before_sending(rsps, client, overrides, field):
    # when an input is wrong
    with pytest.raises(DarajaValidationError) as caught:
        _reverse(client, **overrides)

    # then nothing at all was sent
    assert caught.value.field == field
    assert len(rsps.calls) == 0


def test_reversal_with_a_missing_certificate_sends_nothing(rsps, cache, sleep):
    client = make_initiator_client(cache, sleep, certificate_path="/nowhere/cert.cer")
    with pytest.raises(DarajaCertificateError):
        _reverse(client)
    assert len(rsps.calls) == 0


def test_reversal_takes_the_configured_receiver_identifier_type(rsps, cache, sleep):
    add_token(rsps)
    rsps.post(REVERSAL_URL, json=load("async_accepted"))
    client = make_initiator_client(cache, sleep, reversal_receiver_identifier_type="4")
    _reverse(client, receiver_party="600984")
    body = sent_body(calls_to(rsps, REVERSAL_URL)[0])
    assert body["RecieverIdentifierType"] == "4"
    assert body["ReceiverParty"] == 600984


# --- B2C -----------------------------------------------------------------------


def test_b2c_payment_pays_from_the_b2c_shortcode_with_its_own_credential(rsps, client):
    # given Daraja accepts the payment
    add_token(rsps)
    rsps.post(B2C_URL, json=load("async_accepted"))

    # when part of a receipt is refunded by B2C
    _b2c(client, occasion="HYAB3CDE")

    # then the body is B2C v3's, Occassion (sic) included
    body = sent_body(calls_to(rsps, B2C_URL)[0])
    credential = body.pop("SecurityCredential")
    assert body == {
        "OriginatorConversationID": "hy-rf-000043-1",
        "InitiatorName": "hakiyetu_b2c",
        "CommandID": "BusinessPayment",
        "Amount": 500,
        "PartyA": int(B2C_SHORT_CODE),
        "PartyB": 254708374149,
        "Remarks": "Partial refund",
        "QueueTimeOutURL": TIMEOUT_URL,
        "ResultURL": RESULT_URL,
        "Occassion": "HYAB3CDE",
    }
    assert decrypt_credential(credential) == B2C_PASSWORD


def test_b2c_payment_is_not_retried_after_a_read_timeout(rsps, client, sleep):
    add_token(rsps)
    rsps.post(B2C_URL, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(DarajaOutcomeUnknown) as caught:
        _b2c(client)
    assert caught.value.operation == "b2c_payment"
    assert len(calls_to(rsps, B2C_URL)) == 1
    assert sleep.delays == []


@pytest.mark.parametrize("amount", [9, 250_001, "500"])
def test_b2c_payment_refuses_amounts_outside_its_limits(rsps, client, amount):
    with pytest.raises(DarajaValidationError) as caught:
        _b2c(client, amount=amount)
    assert caught.value.field == "amount"
    assert len(rsps.calls) == 0


def test_b2c_payment_refuses_an_unknown_command(rsps, client):
    with pytest.raises(DarajaValidationError) as caught:
        _b2c(client, command_id="BusinessBuyGoods")
    assert caught.value.field == "command_id"


def test_b2c_payment_refuses_a_bad_phone(rsps, client):
    with pytest.raises(DarajaValidationError) as caught:
        _b2c(client, phone_number="020 123 4567")
    assert caught.value.field == "phone_number"


def test_b2c_payment_without_b2c_settings_sends_nothing(rsps, cache, sleep):
    # given no B2C shortcode
    client = make_initiator_client(cache, sleep, b2c_short_code="")

    # then B2C is refused as not configured, before anything is sent
    with pytest.raises(DarajaConfigurationError, match="MPESA_B2C_SHORT_CODE"):
        _b2c(client)
    assert len(rsps.calls) == 0


# --- Transaction Status ----------------------------------------------------------


def test_transaction_status_by_receipt_sends_identifier_type_4(rsps, client):
    add_token(rsps)
    rsps.post(STATUS_URL, json=load("async_accepted"))

    client.transaction_status(
        transaction_id="nlj41hah7l", originator_conversation_id="hy-ts-1"
    )

    body = sent_body(calls_to(rsps, STATUS_URL)[0])
    assert decrypt_credential(body.pop("SecurityCredential")) == INITIATOR_PASSWORD
    assert body == {
        "OriginatorConversationID": "hy-ts-1",
        "Initiator": "hakiyetu_api",
        "CommandID": "TransactionStatusQuery",
        "TransactionID": RECEIPT,
        "PartyA": 174379,
        "IdentifierType": "4",
        "ResultURL": RESULT_URL,
        "QueueTimeOutURL": TIMEOUT_URL,
        "Remarks": "Status check",
        "Occasion": "",
    }


def test_transaction_status_by_original_conversation_id(rsps, client):
    add_token(rsps)
    rsps.post(STATUS_URL, json=load("async_accepted"))
    client.transaction_status(
        original_conversation_id="AG_20191219_00004e48cf7e3533f581",
        originator_conversation_id="hy-ts-2",
    )
    body = sent_body(calls_to(rsps, STATUS_URL)[0])
    assert body["OriginalConversationID"] == "AG_20191219_00004e48cf7e3533f581"
    assert "TransactionID" not in body


def test_transaction_status_needs_a_receipt_or_a_conversation(rsps, client):
    with pytest.raises(DarajaValidationError) as caught:
        client.transaction_status(originator_conversation_id="hy-ts-3")
    assert caught.value.field == "transaction_id"
    assert len(rsps.calls) == 0


def test_transaction_status_is_retried_while_daraja_is_busy(rsps, client, sleep):
    # given one busy answer, then an acceptance
    add_token(rsps)
    rsps.post(STATUS_URL, status=503, body="busy")
    rsps.post(STATUS_URL, json=load("async_accepted"))

    # when the status is asked
    accepted = client.transaction_status(
        transaction_id=RECEIPT, originator_conversation_id="hy-ts-4"
    )

    # then it was asked again after a pause (it is idempotent)
    assert accepted.conversation_id == "AG_20191219_00004e48cf7e3533f581"
    assert len(calls_to(rsps, STATUS_URL)) == 2
    assert len(sleep.delays) == 1


def test_transaction_status_read_timeout_is_unavailable_not_unknown(
    rsps, client, sleep
):
    add_token(rsps)
    for _ in range(3):
        rsps.post(STATUS_URL, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(DarajaUnavailable):
        client.transaction_status(
            transaction_id=RECEIPT, originator_conversation_id="hy-ts-5"
        )
    assert len(calls_to(rsps, STATUS_URL)) == 3
