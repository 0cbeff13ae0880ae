"""Simulator: STK Push Query, from "being processed" to the final result."""

from daraja_simulator.tests.fixtures import (  # noqa: F401 - fixtures
    daraja_fixture,
    receiver_fixture,
    simulator_fixture,
    wait_until,
)


def _final(daraja, checkout_id):
    """Poll the query until it stops answering "being processed"."""
    return wait_until(
        lambda: (r := daraja.query(checkout_id)).status_code == 200 and r.json()
    )


def test_query_while_prompt_open_is_being_processed(daraja):
    # given
    daraja.control("POST", "config", {"callback_delay": 5})
    checkout_id = daraja.push().json()["CheckoutRequestID"]

    # when
    response = daraja.query(checkout_id)

    # then
    assert response.status_code == 500
    assert response.json() == {
        "requestId": checkout_id,
        "errorCode": "500.001.1001",
        "errorMessage": "The transaction is being processed",
    }


def test_query_after_success_has_string_result_code(daraja):
    # given
    checkout_id = daraja.push().json()["CheckoutRequestID"]

    # when
    body = _final(daraja, checkout_id)

    # then
    assert body["ResponseCode"] == "0"
    assert body["ResultCode"] == "0"
    assert body["CheckoutRequestID"] == checkout_id
    assert body["ResponseDescription"] == (
        "The service request has been accepted successfully"
    )


def test_query_has_no_receipt_amount_or_phone(daraja):
    # given
    checkout_id = daraja.push().json()["CheckoutRequestID"]

    # when
    body = _final(daraja, checkout_id)

    # then
    assert set(body) == {
        "ResponseCode",
        "ResponseDescription",
        "MerchantRequestID",
        "CheckoutRequestID",
        "ResultCode",
        "ResultDesc",
    }


def test_query_after_cancel_is_1032_string(daraja):
    # given
    checkout_id = daraja.push(phone="254711000123").json()["CheckoutRequestID"]

    # when
    body = _final(daraja, checkout_id)

    # then
    assert body["ResultCode"] == "1032"
    assert body["ResultDesc"] == "Request cancelled by user"


def test_query_unknown_id_does_not_exist(daraja):
    # when
    response = daraja.query("ws_CO_01012024120000000708374149")

    # then
    assert response.status_code == 500
    assert response.json()["errorCode"] == "500.001.1001"
    assert response.json()["errorMessage"] == "This transaction does not exist"


def test_query_checks_password(daraja):
    # given
    stamp = daraja.timestamp()
    body = {
        "BusinessShortCode": "174379",
        "Password": daraja.password("20200101000000"),
        "Timestamp": stamp,
        "CheckoutRequestID": "ws_CO_x",
    }

    # when
    response = daraja.post("/mpesa/stkpushquery/v1/query", body)

    # then
    assert response.json()["errorMessage"] == "Wrong credentials"


def test_query_without_checkout_id_is_invalid(daraja):
    # given
    stamp = daraja.timestamp()
    body = {
        "BusinessShortCode": "174379",
        "Password": daraja.password(stamp),
        "Timestamp": stamp,
    }

    # when
    response = daraja.post("/mpesa/stkpushquery/v1/query", body)

    # then
    assert response.status_code == 400
    assert response.json()["errorMessage"] == (
        "Bad Request - Invalid CheckoutRequestID"
    )


def test_query_requires_valid_token(daraja):
    # given
    checkout_id = daraja.push().json()["CheckoutRequestID"]
    daraja.get_token()  # invalidates the caller's cached token

    # when
    response = daraja.query(checkout_id)

    # then
    assert response.json()["errorCode"] == "404.001.03"
