"""Parsing the untrusted STK callback body."""

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from payments.daraja.callbacks import parse_stk_callback
from payments.daraja.exceptions import CallbackParseError
from payments.tests.daraja.support import load


def _with_items(items: list) -> dict:
    payload = load("callback_success")
    payload["Body"]["stkCallback"]["CallbackMetadata"]["Item"] = items
    return payload


def test_parse_stk_callback_reads_the_official_success_sample():
    # given Daraja's official success callback
    payload = load("callback_success")

    # when it is parsed
    callback = parse_stk_callback(payload)

    # then every field is typed and the raw body kept
    assert callback.is_success is True
    assert callback.result_code == "0"
    assert callback.checkout_request_id == "ws_CO_191220191020363925"
    assert callback.merchant_request_id == "29115-34620561-1"
    assert callback.amount == Decimal("1.0")
    assert callback.mpesa_receipt_number == "NLJ7RT61SV"
    assert callback.phone_number == "254708374149"
    assert callback.balance is None
    assert callback.raw == payload


def test_parse_stk_callback_transaction_date_is_nairobi_time():
    # given the sample's TransactionDate 20191219102115 (Kenyan wall clock)
    # when it is parsed
    callback = parse_stk_callback(load("callback_success"))

    # then it is an aware datetime, 07:21:15 UTC
    assert callback.transaction_date.utcoffset() is not None
    assert callback.transaction_date == datetime(2019, 12, 19, 7, 21, 15, tzinfo=UTC)


def test_parse_stk_callback_balance_without_value():
    # given a success whose Balance item has no Value
    # when it is parsed
    callback = parse_stk_callback(load("callback_success_with_balance"))

    # then the other items are read and the balance is None
    assert callback.balance is None
    assert callback.mpesa_receipt_number == "NLJ7RT61SV"
    assert callback.amount == Decimal("1")


def test_parse_stk_callback_reads_items_by_name_in_any_order():
    # given the items reversed
    items = load("callback_success")["Body"]["stkCallback"]["CallbackMetadata"]
    payload = _with_items(list(reversed(items["Item"])))

    # when it is parsed
    callback = parse_stk_callback(payload)

    # then each value is found by its name
    assert callback.amount == Decimal("1.0")
    assert callback.mpesa_receipt_number == "NLJ7RT61SV"
    assert callback.phone_number == "254708374149"


def test_parse_stk_callback_missing_items_are_none():
    # given only the receipt item
    payload = _with_items([{"Name": "MpesaReceiptNumber", "Value": "NLJ7RT61SV"}])

    # when it is parsed
    callback = parse_stk_callback(payload)

    # then absent items are None
    assert callback.mpesa_receipt_number == "NLJ7RT61SV"
    assert callback.amount is None
    assert callback.transaction_date is None
    assert callback.phone_number is None


def test_parse_stk_callback_duplicated_item_keeps_the_first_value():
    # given Amount twice
    payload = _with_items(
        [{"Name": "Amount", "Value": 1500}, {"Name": "Amount", "Value": 1}]
    )

    # when / then the first value is used
    assert parse_stk_callback(payload).amount == Decimal("1500")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, "1"), (1.0, "1.0"), ("1.00", "1.00"), (1500.5, "1500.5"), ("abc", None)],
)
def test_parse_stk_callback_amount_forms(value, expected):
    # given Amount as an int, a float or a string
    payload = _with_items([{"Name": "Amount", "Value": value}])

    # when it is parsed
    amount = parse_stk_callback(payload).amount

    # then it is an exact Decimal (or None when unreadable)
    assert amount == (None if expected is None else Decimal(expected))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (254708374149, "254708374149"),
        ("254708374149", "254708374149"),
        ("2547 ***** 126", "2547 ***** 126"),
        (2.54708374149e11, "254708374149"),
    ],
)
def test_parse_stk_callback_phone_forms(value, expected):
    # given PhoneNumber as a number, a string or Daraja's masked string
    payload = _with_items([{"Name": "PhoneNumber", "Value": value}])

    # when / then it is a string, never a float or scientific notation
    assert parse_stk_callback(payload).phone_number == expected


def test_parse_stk_callback_transaction_date_as_string():
    # given TransactionDate as a string
    payload = _with_items([{"Name": "TransactionDate", "Value": "20240710093000"}])

    # when / then it is parsed like the number form
    date = parse_stk_callback(payload).transaction_date
    assert date == datetime(2024, 7, 10, 6, 30, tzinfo=UTC)


@pytest.mark.parametrize("value", ["2024-07-10", 20241310093000, "yesterday", None])
def test_parse_stk_callback_bad_transaction_date_is_none(value):
    # given an unreadable TransactionDate
    payload = _with_items([{"Name": "TransactionDate", "Value": value}])

    # when / then it is None rather than an error
    assert parse_stk_callback(payload).transaction_date is None


def test_parse_stk_callback_official_failure_sample():
    # given Daraja's cancelled-by-user callback (no metadata)
    # when it is parsed
    callback = parse_stk_callback(load("callback_cancelled"))

    # then it is a failure with code "1032"
    assert callback.is_success is False
    assert callback.result_code == "1032"
    assert callback.result_desc == "Request cancelled by user"
    assert callback.amount is None
    assert callback.mpesa_receipt_number is None


def test_parse_stk_callback_string_result_code():
    # given the alphanumeric code SFC_IC0003
    # when it is parsed
    callback = parse_stk_callback(load("callback_operator_missing"))

    # then the code is kept as sent
    assert callback.result_code == "SFC_IC0003"
    assert callback.is_success is False


@pytest.mark.parametrize("code", ["0", " 0 ", 0, 0.0])
def test_parse_stk_callback_success_code_forms(code):
    # given ResultCode 0 as a string or a number
    payload = load("callback_success")
    payload["Body"]["stkCallback"]["ResultCode"] = code

    # when / then it is a success
    assert parse_stk_callback(payload).is_success is True


def test_parse_stk_callback_success_without_metadata_is_parsed():
    # given a success callback without CallbackMetadata
    payload = load("callback_success")
    del payload["Body"]["stkCallback"]["CallbackMetadata"]

    # when it is parsed
    callback = parse_stk_callback(payload)

    # then it is returned, for the payments app to judge
    assert callback.is_success is True
    assert callback.mpesa_receipt_number is None


@pytest.mark.parametrize(
    "metadata",
    [None, [], "x", {"Item": None}, {"Item": "x"}, {"Item": [None, 1, "a", []]}],
)
def test_parse_stk_callback_garbage_metadata_is_ignored(metadata):
    # given CallbackMetadata that is not a list of items
    payload = load("callback_success")
    payload["Body"]["stkCallback"]["CallbackMetadata"] = metadata

    # when / then the callback is parsed without metadata
    assert parse_stk_callback(payload).amount is None


def test_parse_stk_callback_accepts_raw_bytes():
    # given the raw request body
    body = json.dumps(load("callback_success")).encode()

    # when / then it is decoded and parsed
    assert parse_stk_callback(body).mpesa_receipt_number == "NLJ7RT61SV"


def _without_checkout_id() -> dict:
    payload = load("callback_cancelled")
    del payload["Body"]["stkCallback"]["CheckoutRequestID"]
    return payload


def _with_callback_field(name: str, value: object) -> dict:
    payload = copy.deepcopy(load("callback_cancelled"))
    payload["Body"]["stkCallback"][name] = value
    return payload


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        [load("callback_success")],
        0,
        1.5,
        True,
        "",
        "not json",
        b"\xff\xfe",
        "[1, 2]",
        {},
        {"Body": None},
        {"Body": []},
        {"Body": "x"},
        {"Body": {"stkCallback": None}},
        {"Body": {"stkCallback": []}},
        {"Body": {"stkCallback": {}}},
        {"body": {"stkCallback": load("callback_cancelled")["Body"]["stkCallback"]}},
        _without_checkout_id(),
        _with_callback_field("CheckoutRequestID", ""),
        _with_callback_field("CheckoutRequestID", "   "),
        _with_callback_field("CheckoutRequestID", None),
        _with_callback_field("CheckoutRequestID", {"id": 1}),
        _with_callback_field("CheckoutRequestID", ["ws_CO_1"]),
        _with_callback_field("ResultCode", None),
        _with_callback_field("ResultCode", {"code": 0}),
        _with_callback_field("ResultCode", True),
        "[" * 100_000,
    ],
)
def test_parse_stk_callback_refuses_anything_else(payload):
    # given a body that is not an STK callback
    # when it is parsed
    # then only CallbackParseError escapes
    with pytest.raises(CallbackParseError):
        parse_stk_callback(payload)
