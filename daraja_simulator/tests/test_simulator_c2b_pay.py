"""Simulator: Paybill payments, validation, payloads, double notification."""

import hashlib
import time

import pytest
import requests

from daraja_simulator.tests.c2b_fixtures import (  # noqa: F401 - fixtures
    PAYBILL,
    V1_PATH,
    V2_PATH,
    c2b_daraja_fixture,
    c2b_fixture,
    pay,
    register,
    validation_on,
)
from daraja_simulator.tests.fixtures import (  # noqa: F401 - fixtures
    SHORT_CODE,
    SUCCESS_PHONE,
    receiver_fixture,
    wait_until,
)


def test_pay_without_validation_sends_a_v1_confirmation(daraja, c2b):
    # given
    register(daraja, c2b, V1_PATH)

    # when
    paid = pay(daraja)

    # then
    assert paid["status"] == "completed"
    assert c2b.got("validation") == []
    [confirmation] = c2b.got("confirmation")
    assert confirmation["TransactionType"] == "Pay Bill"
    assert confirmation["TransID"] == paid["receipt"]
    assert len(confirmation["TransID"]) == 10
    assert confirmation["TransAmount"] == "3000.00"
    assert confirmation["BusinessShortCode"] == PAYBILL
    assert confirmation["BillRefNumber"] == "HY-B00042"
    assert len(confirmation["TransTime"]) == 14
    assert confirmation["OrgAccountBalance"] == "3000.00"
    expected = hashlib.sha256(SUCCESS_PHONE.encode()).hexdigest()
    assert confirmation["MSISDN"] == expected
    assert {"InvoiceNumber", "ThirdPartyTransID", "FirstName", "MiddleName"} <= set(
        confirmation
    )
    assert "LastName" in confirmation


def test_pay_sends_a_masked_msisdn_when_registered_v2(daraja, c2b):
    # given
    register(daraja, c2b, V2_PATH)

    # when
    pay(daraja, phone="254712345126")

    # then
    assert c2b.got("confirmation")[0]["MSISDN"] == "2547 ***** 126"


def test_accepted_validation_leads_to_confirmation(daraja, c2b):
    # given
    register(daraja, c2b)
    validation_on(daraja)
    c2b.replies["validation"] = {
        "ResultCode": "0",
        "ResultDesc": "Accepted",
        "ThirdPartyTransID": "HY-1",
    }

    # when
    paid = pay(daraja)

    # then
    assert (paid["status"], paid["validation"]) == ("completed", "accepted")
    [validation] = c2b.got("validation")
    [confirmation] = c2b.got("confirmation")
    assert validation["TransID"] == confirmation["TransID"]
    assert validation["OrgAccountBalance"] == ""
    assert confirmation["ThirdPartyTransID"] == "HY-1"


@pytest.mark.parametrize("code", ["C2B00012", "C2B00013"])
def test_rejected_validation_sends_no_confirmation(daraja, c2b, code):
    # given
    register(daraja, c2b)
    validation_on(daraja)
    c2b.replies["validation"] = {"ResultCode": code, "ResultDesc": "Rejected"}

    # when
    paid = pay(daraja)

    # then
    assert (paid["status"], paid["result_code"]) == ("rejected", code)
    assert len(c2b.got("validation")) == 1
    assert c2b.got("confirmation") == []
    ledger = daraja.control("GET", "ledger")
    assert ledger["paybill_successful_count"] == 0
    [entry] = [p for p in ledger["payments"] if p["channel"] == "paybill"]
    assert entry["status"] == "rejected"


@pytest.mark.parametrize(
    ("response_type", "status", "confirmations"),
    [("Completed", "completed", 1), ("Cancelled", "rejected", 0)],
)
def test_silent_validation_applies_the_response_type(
    daraja, c2b, response_type, status, confirmations
):
    # given
    register(daraja, c2b, ResponseType=response_type)
    validation_on(daraja)
    c2b.delays["validation"] = 1.0  # the simulator waits 0.3 s

    # when
    paid = pay(daraja)

    # then
    assert (paid["status"], paid["validation"]) == (status, "no_answer")
    assert len(c2b.got("confirmation")) == confirmations


def test_ledger_records_paybill_payments_like_stk_ones(daraja, c2b):
    # given
    register(daraja, c2b)

    # when
    paid = pay(daraja, amount=150, account="hy-b7")

    # then
    ledger = daraja.control("GET", "ledger")
    assert ledger["paybill_successful_count"] == 1
    assert ledger["paybill_successful_amount"] == 150
    [entry] = [p for p in ledger["payments"] if p["channel"] == "paybill"]
    assert entry["receipt"] == paid["receipt"]
    assert (entry["amount"], entry["paid_amount"]) == (150, 150)
    assert (entry["phone"], entry["account_reference"]) == (SUCCESS_PHONE, "hy-b7")


def test_pay_refuses_an_unregistered_shortcode_and_bad_input(daraja, c2b):
    # when
    unregistered = requests.post(
        daraja.base_url + "/simulator/c2b/pay",
        json={"phone": SUCCESS_PHONE, "amount": 10, "short_code": "999999"},
        timeout=5,
    )
    bad_phone = requests.post(
        daraja.base_url + "/simulator/c2b/pay",
        json={"phone": "0712", "amount": 10, "short_code": PAYBILL},
        timeout=5,
    )

    # then
    assert unregistered.status_code == 400
    assert "999999" in unregistered.json()["error"]
    assert bad_phone.status_code == 400


def test_double_notification_confirms_stk_payments_with_their_receipt(
    daraja, c2b, receiver
):
    # given
    register(daraja, c2b, ShortCode=SHORT_CODE)
    daraja.control("POST", "config", {"c2b_double_notification": True})

    # when
    daraja.push(Amount=3000)

    # then
    wait_until(lambda: receiver.bodies and c2b.got("confirmation"))
    items = receiver.bodies[0]["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    receipt = {i["Name"]: i.get("Value") for i in items}["MpesaReceiptNumber"]
    [confirmation] = c2b.got("confirmation")
    assert confirmation["TransID"] == receipt
    assert confirmation["BusinessShortCode"] == SHORT_CODE
    ledger = daraja.control("GET", "ledger")
    assert ledger["paybill_payments"] == 0  # the same money, not new money
    assert ledger["successful_count"] == 1


def test_no_double_notification_without_the_switch(daraja, c2b, receiver):
    # given
    register(daraja, c2b, ShortCode=SHORT_CODE)

    # when
    daraja.push(Amount=3000)

    # then
    wait_until(lambda: receiver.bodies)
    time.sleep(0.2)
    assert c2b.got("confirmation") == []
