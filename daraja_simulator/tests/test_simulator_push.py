"""Simulator: STK Push request checks, error shapes and the ack."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from daraja_simulator.tests.fixtures import (  # noqa: F401 - fixtures
    PUSH_PATH,
    SUCCESS_PHONE,
    daraja_fixture,
    receiver_fixture,
    simulator_fixture,
    wait_until,
)

ACK = "Success. Request accepted for processing"


def test_push_ack_has_daraja_shape(daraja):
    # when
    response = daraja.push()

    # then
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "MerchantRequestID",
        "CheckoutRequestID",
        "ResponseCode",
        "ResponseDescription",
        "CustomerMessage",
    }
    assert body["ResponseCode"] == "0"
    assert body["ResponseDescription"] == ACK
    assert body["CustomerMessage"] == ACK
    assert re.fullmatch(r"ws_CO_\d{14}\d{3}708374149", body["CheckoutRequestID"])


def test_push_checkout_id_carries_nairobi_time(daraja):
    # when
    checkout_id = daraja.push().json()["CheckoutRequestID"]

    # then
    nairobi = ZoneInfo("Africa/Nairobi")
    stamped = datetime.strptime(checkout_id[6:20], "%d%m%Y%H%M%S").replace(
        tzinfo=nairobi
    )
    assert abs((datetime.now(nairobi) - stamped).total_seconds()) < 60


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("BusinessShortCode", "17a379"),
        ("TransactionType", "CustomerPayBill"),
        ("Amount", 0),
        ("Amount", 250001),
        ("Amount", 100.5),
        ("Amount", "100.50"),
        ("Amount", True),
        ("PartyA", "0708374149"),
        ("PartyB", "12"),
        ("PhoneNumber", "+254708374149"),
        ("PhoneNumber", "255708374149"),
        ("CallBackURL", "https://example.com/cb /x"),
        ("CallBackURL", "ftp://example.com/cb"),
        ("CallBackURL", "https://example.com/mpesa/cb"),
        ("AccountReference", "ABCDEFGHIJKLM"),
        ("AccountReference", ""),
        ("TransactionDesc", "Consultation f"),
        ("Timestamp", "2024011512000"),
        ("Timestamp", "20240230120000"),
        ("Password", ""),
    ],
)
def test_push_rejects_invalid_field(daraja, field, value):
    # when
    response = daraja.push(**{field: value})

    # then
    assert response.status_code == 400
    body = response.json()
    assert body["errorCode"] == "400.002.02"
    assert body["errorMessage"] == f"Bad Request - Invalid {field}"
    assert set(body) == {"requestId", "errorCode", "errorMessage"}


@pytest.mark.parametrize("amount", [1, "1", 250000, "250000"])
def test_push_accepts_whole_amount_as_number_or_string(daraja, amount):
    # when
    response = daraja.push(Amount=amount)

    # then
    assert response.status_code == 200


def test_push_accepts_new_0111_range(daraja):
    # when
    response = daraja.push(phone="254110000001")

    # then
    assert response.status_code == 200


def test_push_utc_timestamp_is_invalid(daraja):
    # given: the Django trap, UTC wall-clock time instead of Nairobi's
    stamp = datetime.now(ZoneInfo("UTC")).strftime("%Y%m%d%H%M%S")

    # when
    response = daraja.push(Timestamp=stamp, Password=daraja.password(stamp))

    # then
    assert response.json()["errorMessage"] == "Bad Request - Invalid Timestamp"


def test_push_password_from_other_timestamp_is_wrong_credentials(daraja):
    # given
    stamp = daraja.timestamp()
    other = str(int(stamp) - 1)

    # when
    response = daraja.push(Timestamp=stamp, Password=daraja.password(other))

    # then
    assert response.status_code == 500
    assert response.json()["errorCode"] == "500.001.1001"
    assert response.json()["errorMessage"] == "Wrong credentials"


def test_push_unknown_short_code_is_merchant_does_not_exist(daraja):
    # given
    stamp = daraja.timestamp()

    # when
    response = daraja.push(
        BusinessShortCode="600000",
        Timestamp=stamp,
        Password=daraja.password(stamp, short_code="600000"),
    )

    # then
    assert response.status_code == 500
    assert response.json()["errorMessage"] == "Merchant does not exist"


def test_push_without_bearer_is_invalid_authentication_header(daraja):
    # when
    response = requests.post(
        daraja.base_url + PUSH_PATH, json=daraja.push_body(), timeout=5
    )

    # then
    assert response.status_code == 404
    assert response.json()["errorCode"] == "404.001.04"


def test_push_unknown_token_is_404_001_03(daraja):
    # when
    response = daraja.post(
        PUSH_PATH, daraja.push_body(), Authorization="Bearer notatoken"
    )

    # then
    assert response.status_code == 404
    assert response.json()["errorCode"] == "404.001.03"


def test_push_without_json_content_type_is_invalid_short_code(daraja):
    # when
    response = requests.post(
        daraja.base_url + PUSH_PATH,
        data="BusinessShortCode=174379",
        headers={
            "Authorization": f"Bearer {daraja.token}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        timeout=5,
    )

    # then
    assert response.status_code == 400
    assert response.json()["errorMessage"] == "Bad Request - Invalid BusinessShortCode"


def test_push_malformed_json_is_invalid_payload(daraja):
    # when
    response = requests.post(
        daraja.base_url + PUSH_PATH,
        data="{not json",
        headers={
            "Authorization": f"Bearer {daraja.token}",
            "Content-Type": "application/json",
        },
        timeout=5,
    )

    # then
    assert response.status_code == 400
    assert response.json()["errorCode"] == "400.002.05"


def test_push_get_is_method_not_allowed(daraja):
    # when
    response = requests.get(daraja.base_url + PUSH_PATH, timeout=5)

    # then
    assert response.status_code == 405


def test_push_unknown_path_is_resource_not_found(daraja):
    # when
    response = requests.post(daraja.base_url + "/mpesa/stkpush/v9/x", timeout=5)

    # then
    assert response.status_code == 404
    assert response.json()["errorCode"] == "404.001.01"


def test_push_second_prompt_on_same_phone_cannot_lock_subscriber(daraja):
    # given
    daraja.control("POST", "config", {"callback_delay": 5})
    daraja.push()

    # when
    response = daraja.push()

    # then
    assert response.status_code == 500
    assert response.json()["errorCode"] == "500.001.1001"
    assert response.json()["errorMessage"] == (
        "Unable to lock subscriber, a transaction is already in process for "
        "the current subscriber"
    )


def test_push_other_phone_is_not_locked(daraja):
    # given
    daraja.control("POST", "config", {"callback_delay": 5})
    daraja.push()

    # when
    response = daraja.push(phone="254700000099")

    # then
    assert response.status_code == 200


def test_push_phone_unlocked_once_outcome_decided(daraja, receiver):
    # given
    daraja.push()
    wait_until(lambda: receiver.bodies)

    # when
    response = daraja.push()

    # then
    assert response.status_code == 200


def test_push_lock_can_be_switched_off(daraja):
    # given
    daraja.control("POST", "config", {"callback_delay": 5, "lock_subscriber": False})
    daraja.push()

    # when
    response = daraja.push()

    # then
    assert response.status_code == 200


def test_push_refused_push_is_not_in_ledger(daraja):
    # given
    daraja.push(Amount=0)

    # when
    ledger = daraja.control("GET", "ledger")

    # then
    assert ledger["pushes"] == 0
    assert SUCCESS_PHONE not in str(ledger["payments"])
