"""Simulator: callbacks delivered to a real local receiver, by phone."""

import time

import pytest

from daraja_simulator.tests.fixtures import (  # noqa: F401 - fixtures
    SUCCESS_PHONE,
    daraja_fixture,
    receiver_fixture,
    simulator_fixture,
    wait_until,
)


def _callback(receiver, index=0):
    wait_until(lambda: len(receiver.bodies) > index)
    return receiver.bodies[index]["Body"]["stkCallback"]


def _sent(daraja, state):
    """The first callback record in ``state``, once there is one."""
    return wait_until(
        lambda: [
            c
            for c in daraja.control("GET", "callbacks")["callbacks"]
            if c["state"] == state
        ]
    )[0]


def _items(callback):
    return callback["CallbackMetadata"]["Item"]


def test_callback_success_has_daraja_shape(daraja, receiver):
    # given
    ack = daraja.push(Amount=3000).json()

    # when
    callback = _callback(receiver)

    # then
    assert callback["ResultCode"] == 0
    assert callback["CheckoutRequestID"] == ack["CheckoutRequestID"]
    assert callback["MerchantRequestID"] == ack["MerchantRequestID"]
    names = [item["Name"] for item in _items(callback)]
    assert names == [
        "Amount",
        "MpesaReceiptNumber",
        "Balance",
        "TransactionDate",
        "PhoneNumber",
    ]


def test_callback_metadata_types(daraja, receiver):
    # given
    daraja.push(Amount=3000)

    # when
    items = {i["Name"]: i for i in _items(_callback(receiver))}

    # then
    assert items["Amount"]["Value"] == 3000
    assert len(items["MpesaReceiptNumber"]["Value"]) == 10
    assert items["Balance"] == {"Name": "Balance"}
    assert isinstance(items["TransactionDate"]["Value"], int)
    assert len(str(items["TransactionDate"]["Value"])) == 14
    assert items["PhoneNumber"]["Value"] == int(SUCCESS_PHONE)


@pytest.mark.parametrize(
    ("phone", "code"),
    [
        ("254711000123", 1032),
        ("254700000001", 1),
        ("254700000017", 17),
        ("254700001019", 1019),
        ("254700001037", 1037),
        ("254700002001", 2001),
        ("254700010003", "SFC_IC0003"),
        ("254722000000", 0),
        ("254110000000", 0),
    ],
)
def test_callback_result_code_by_phone(daraja, receiver, phone, code):
    # given
    daraja.push(phone=phone)

    # when
    callback = _callback(receiver)

    # then
    assert callback["ResultCode"] == code


def test_callback_failure_has_no_metadata(daraja, receiver):
    # given
    daraja.push(phone="254711000123")

    # when
    callback = _callback(receiver)

    # then
    assert "CallbackMetadata" not in callback


def test_callback_paybill_with_other_party_b_is_operator_missing(daraja, receiver):
    # given
    daraja.push(PartyB="600111")

    # when
    callback = _callback(receiver)

    # then
    assert callback["ResultCode"] == "SFC_IC0003"


def test_callback_buy_goods_with_short_code_as_till_is_2028(daraja, receiver):
    # given
    daraja.push(TransactionType="CustomerBuyGoodsOnline")

    # when
    callback = _callback(receiver)

    # then
    assert callback["ResultCode"] == 2028


def test_callback_receipts_are_unique(daraja, receiver):
    # given
    for n in range(5):
        daraja.push(phone=f"25472200000{n}")
    wait_until(lambda: len(receiver.bodies) == 5)

    # when
    receipts = {
        item["Value"]
        for body in receiver.bodies
        for item in body["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
        if item["Name"] == "MpesaReceiptNumber"
    }

    # then
    assert len(receipts) == 5


def test_callback_records_our_server_answer(daraja, receiver):
    # given
    receiver.status = 500
    daraja.push()

    # when
    record = _sent(daraja, "delivered")

    # then
    assert record["http_status"] == 500
    # the callback secret (last segment) is masked in the control API
    assert record["target"] == receiver.url.rsplit("/", 1)[0] + "/***"
    assert "Accepted" in record["response_body"]
    assert record["body"]["Body"]["stkCallback"]["ResultCode"] == 0


def test_callback_unreachable_target_is_failed(daraja, receiver):
    # given
    receiver.stop()
    daraja.push()

    # when
    record = _sent(daraja, "failed")

    # then
    assert record["error"]
    assert record["http_status"] is None


def test_callback_ledger_sums_successful_payments(daraja, receiver):
    # given
    daraja.push(phone="254722000001", Amount=1000)
    daraja.push(phone="254722000002", Amount="2500")
    daraja.push(phone="254711000003", Amount=700)
    wait_until(lambda: len(receiver.bodies) == 3)

    # when
    ledger = daraja.control("GET", "ledger")

    # then
    assert ledger["successful_count"] == 2
    assert ledger["successful_amount"] == 3500
    assert ledger["by_result_code"] == {"0": 2, "1032": 1}
    assert ledger["processing"] == 0


def test_callback_not_sent_before_delay(daraja, receiver):
    # given
    daraja.control("POST", "config", {"callback_delay": 0.3})
    daraja.push()

    # when
    time.sleep(0.1)

    # then
    assert receiver.bodies == []
    wait_until(lambda: receiver.bodies)
