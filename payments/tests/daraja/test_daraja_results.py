"""ResultURL and QueueTimeOutURL bodies: every shape Daraja sends, typed
fields, and what is not a result at all."""

import json
from datetime import datetime

import pytest

from core.time import NAIROBI
from payments.daraja.exceptions import DarajaError
from payments.daraja.results import (
    DarajaMalformedResult,
    b2c_fields,
    parse_async_result,
    reversal_fields,
    transaction_status_fields,
)
from payments.tests.daraja.support import load


def _result(**fields) -> dict:
    body = {
        "ResultType": 0,
        "ResultCode": 0,
        "ResultDesc": "The service request is processed successfully.",
        "OriginatorConversationID": "hy-rf-1",
        "ConversationID": "AG_20191219_0001",
        "TransactionID": "NLJ11HAH8L",
    }
    body.update(fields)
    return {"Result": {k: v for k, v in body.items() if v is not ...}}


def test_parse_async_result_reads_a_successful_reversal():
    # given Daraja's reversal result
    body = load("reversal_result_success")

    # when it is parsed
    result = parse_async_result(body)

    # then the ids, the code as text and the parameters are kept
    assert result.result_code == "0"
    assert result.is_success is True
    assert result.is_timeout is False
    assert result.originator_conversation_id == "hy-rf-000042-1"
    assert result.conversation_id == "AG_20191219_00004e48cf7e3533f581"
    assert result.parameters["Amount"] == "1500"
    assert result.raw == body


def test_reversal_fields_types_amount_receipts_and_time():
    # given a successful reversal result
    result = parse_async_result(load("reversal_result_success"))

    # when its fields are read
    fields = reversal_fields(result)

    # then amounts are whole KES, receipts upper case, the time Nairobi's
    assert fields.amount == 1500
    assert fields.charge == 0
    assert fields.transaction_id == "NLJ11HAH8L"
    assert fields.original_transaction_id == "NLJ41HAH7L"
    assert fields.completed_at == datetime(2019, 12, 19, 13, 53, 4, tzinfo=NAIROBI)
    assert fields.credit_party_public_name == "254708374149 - John Doe"


def test_parse_async_result_keeps_a_string_result_code():
    # given R000001 (already reversed), a string code without parameters
    result = parse_async_result(load("reversal_result_already_reversed"))

    # then it is kept as it is, and is no success
    assert result.result_code == "R000001"
    assert result.is_success is False
    assert result.parameters == {}


def test_parse_async_result_turns_a_numeric_code_into_text():
    # given the wrong-credential result, ResultCode the number 2001
    result = parse_async_result(load("result_wrong_credential"))

    # then the code is the text "2001"
    assert result.result_code == "2001"
    assert result.is_success is False


def test_parse_async_result_reads_raw_bytes():
    # given the body as the view receives it
    raw = json.dumps(load("reversal_result_success")).encode()

    # when parsed
    result = parse_async_result(raw)

    # then it is the same result
    assert result.transaction_id == "nlj11hah8l"
    assert result.result_code == "0"


def test_parse_async_result_accepts_a_single_result_parameter():
    # given a ResultParameter that is one object, not a list
    body = _result(
        ResultParameters={"ResultParameter": {"Key": "Amount", "Value": "250.00"}}
    )

    # then it is read as one parameter
    assert parse_async_result(body).parameters == {"Amount": "250.00"}


def test_parse_async_result_accepts_a_string_result_type_and_code():
    # given a ResultCode "0" and ResultType "0" as strings
    result = parse_async_result(_result(ResultCode="0", ResultType="0"))

    # then they read as any other
    assert result.result_code == "0"
    assert result.result_type == 0


def test_parse_async_result_reads_a_queue_timeout_notice():
    # given a notice posted to the QueueTimeOutURL, without a ResultCode
    body = _result(ResultCode=..., ResultDesc="The request timed out in the queue.")

    # when parsed as a time-out
    result = parse_async_result(body, timeout=True)

    # then it is a time-out, never a success
    assert result.is_timeout is True
    assert result.is_success is False
    assert result.result_code == ""


def test_a_queue_timeout_notice_with_code_zero_is_no_success():
    # given a time-out notice that says 0
    result = parse_async_result(_result(ResultCode=0), timeout=True)

    # then it still proves nothing
    assert result.is_success is False
    assert result.is_timeout is True


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        "",
        {"Body": {}},
        {"Result": "0"},
        {"Result": []},
        _result(ResultCode=...),
        _result(ResultCode=1.5),
        _result(ResultCode=True),
        _result(ResultCode={"x": 1}),
        _result(ResultType="zero"),
        _result(ResultParameters="none"),
        _result(ResultParameters={"ResultParameter": "Amount"}),
        _result(ResultParameters={"ResultParameter": [{"Value": 1}]}),
        _result(ResultParameters={"ResultParameter": [{"Key": "A", "Value": [1]}]}),
        _result(OriginatorConversationID=..., ConversationID=...),
        _result(ConversationID={"id": 1}),
    ],
    ids=lambda body: repr(body)[:40],
)
def test_parse_async_result_refuses_what_is_not_a_result(body):
    # when something that is not a Daraja result is parsed
    with pytest.raises(DarajaMalformedResult) as caught:
        parse_async_result(body)

    # then it is the adapter's own error
    assert isinstance(caught.value, DarajaError)


def test_parse_async_result_refuses_an_unparsable_type():
    # given something that is no body at all
    with pytest.raises(DarajaMalformedResult):
        parse_async_result(42)


def test_transaction_status_fields_read_the_status_answer():
    # given Daraja's Transaction Status result
    result = parse_async_result(load("transaction_status_result_success"))

    # when its fields are read
    fields = transaction_status_fields(result)

    # then the receipt, status, amount and times are typed
    assert fields.receipt_no == "NLJ41HAH7L"
    assert fields.is_completed is True
    assert fields.is_reversed is False
    assert fields.amount == 1500
    assert fields.initiated_at == datetime(2019, 12, 19, 9, 30, 12, tzinfo=NAIROBI)
    assert fields.finalised_at == datetime(2019, 12, 19, 9, 30, 14, tzinfo=NAIROBI)
    assert fields.debit_party_name == "254708374149 - John Doe"
    assert fields.transaction_reason == ""


def test_b2c_fields_read_the_dotted_completion_time():
    # given a B2C result, whose time is written 19.12.2019 11:45:50
    fields = b2c_fields(parse_async_result(load("b2c_result_success")))

    # then it is read as Nairobi time, the amount as whole KES
    assert fields.completed_at == datetime(2019, 12, 19, 11, 45, 50, tzinfo=NAIROBI)
    assert fields.amount == 500
    assert fields.transaction_receipt == "NLJ41HAY6Q"
    assert fields.receiver_party_public_name == "254708374149 - John Doe"


def test_an_amount_with_cents_is_no_whole_amount():
    # given a reversal of 100.50 (never ours: we send whole shillings)
    body = _result(
        ResultParameters={"ResultParameter": [{"Key": "Amount", "Value": "100.50"}]}
    )

    # when its fields are read
    fields = reversal_fields(parse_async_result(body))

    # then there is no whole amount, and the text says why
    assert fields.amount is None
    assert fields.amount_text == "100.50"


def test_a_failure_has_empty_fields():
    # given R000002 without parameters
    body = _result(ResultCode="R000002", TransactionID="")

    # when its fields are read
    fields = reversal_fields(parse_async_result(body))

    # then nothing is made up
    assert fields.amount is None
    assert fields.completed_at is None
    assert fields.original_transaction_id == ""
