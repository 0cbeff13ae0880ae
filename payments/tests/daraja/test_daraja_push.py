"""STK push: the request sent, validation first, and the result."""

import base64
import json

import pytest
import time_machine

from payments.daraja.exceptions import DarajaValidationError
from payments.daraja.types import BUY_GOODS
from payments.tests.daraja.support import (
    CALLBACK_URL,
    CHECKOUT_ID,
    PASSKEY,
    PUSH_URL,
    SHORTCODE,
    TOKEN,
    add_token,
    calls_to,
    load,
    make_client,
    push_kwargs,
)

# 06:30:00 UTC is 09:30:00 in Nairobi.
NOW_UTC = 1720593000.0
NAIROBI_STAMP = "20240710093000"


def _sent_body(rsps) -> dict:
    return json.loads(calls_to(rsps, PUSH_URL)[-1].request.body)


def test_stk_push_sends_a_paybill_request(rsps, client):
    # given Daraja accepts the push
    add_token(rsps)
    rsps.post(PUSH_URL, json=load("stk_push_accepted"))

    # when a paybill push is made at a known time
    with time_machine.travel(NOW_UTC, tick=False):
        client.stk_push(**push_kwargs(phone_number="+254 708-374-149"))

    # then the body follows Daraja's official sample
    assert _sent_body(rsps) == {
        "BusinessShortCode": 174379,
        "Password": base64.b64encode(
            f"{SHORTCODE}{PASSKEY}{NAIROBI_STAMP}".encode()
        ).decode(),
        "Timestamp": NAIROBI_STAMP,
        "TransactionType": "CustomerPayBillOnline",
        "Amount": 1500,
        "PartyA": 254708374149,
        "PartyB": 174379,
        "PhoneNumber": 254708374149,
        "CallBackURL": CALLBACK_URL,
        "AccountReference": "BK1042",
        "TransactionDesc": "Consultation",
    }


def test_stk_push_sends_bearer_token_and_json(rsps, client):
    # given Daraja accepts the push
    add_token(rsps)
    rsps.post(PUSH_URL, json=load("stk_push_accepted"))

    # when a push is made
    client.stk_push(**push_kwargs())

    # then it carries the bearer token and a JSON content type
    headers = calls_to(rsps, PUSH_URL)[0].request.headers
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Content-Type"] == "application/json"


def test_stk_push_password_uses_the_body_timestamp(rsps, client):
    # given Daraja accepts the push
    add_token(rsps)
    rsps.post(PUSH_URL, json=load("stk_push_accepted"))

    # when a push is made while the clock runs
    client.stk_push(**push_kwargs())

    # then the Password embeds exactly the Timestamp sent alongside it
    body = _sent_body(rsps)
    decoded = base64.b64decode(body["Password"]).decode()
    assert decoded == f"{SHORTCODE}{PASSKEY}{body['Timestamp']}"


def test_stk_push_till_uses_store_number_and_till(rsps, cache):
    # given a till configuration: store number 5566771, till 8899001
    client = make_client(
        cache,
        business_short_code="5566771",
        transaction_type=BUY_GOODS,
        party_b="8899001",
    )
    add_token(rsps)
    rsps.post(PUSH_URL, json=load("stk_push_accepted"))

    # when a push is made
    client.stk_push(**push_kwargs())

    # then BusinessShortCode is the store and PartyB the till
    body = _sent_body(rsps)
    assert body["TransactionType"] == "CustomerBuyGoodsOnline"
    assert body["BusinessShortCode"] == 5566771
    assert body["PartyB"] == 8899001
    decoded = base64.b64decode(body["Password"]).decode()
    assert decoded.startswith("5566771")


def test_stk_push_paybill_ignores_party_b_setting(rsps, cache):
    # given a paybill configuration that also carries a PartyB value
    client = make_client(cache, party_b="999999")
    add_token(rsps)
    rsps.post(PUSH_URL, json=load("stk_push_accepted"))

    # when a push is made
    client.stk_push(**push_kwargs())

    # then PartyB is the paybill itself
    assert _sent_body(rsps)["PartyB"] == 174379


def test_stk_push_returns_the_acknowledgement(rsps, client):
    # given Daraja accepts the push
    add_token(rsps)
    rsps.post(PUSH_URL, json=load("stk_push_accepted"))

    # when a push is made
    result = client.stk_push(**push_kwargs())

    # then the result carries Daraja's ids and the raw answer
    assert result.checkout_request_id == CHECKOUT_ID
    assert result.merchant_request_id == "2654-4b64-97ff-b827b542881d3130"
    assert result.response_code == "0"
    assert result.customer_message == "Success. Request accepted for processing"
    assert result.raw == load("stk_push_accepted")


def test_stk_push_uses_the_callback_url_given(rsps, client):
    # given Daraja accepts the push
    add_token(rsps)
    rsps.post(PUSH_URL, json=load("stk_push_accepted"))

    # when a push names its own callback URL
    url = "https://hakiyetu.example/payments/lnm/cb/other/"
    client.stk_push(**push_kwargs(callback_url=url))

    # then that URL is sent
    assert _sent_body(rsps)["CallBackURL"] == url


def test_stk_push_shortens_the_description(rsps, client):
    # given Daraja accepts the push
    add_token(rsps)
    rsps.post(PUSH_URL, json=load("stk_push_accepted"))

    # when the description is long and has special characters
    client.stk_push(**push_kwargs(transaction_desc="Legal fee #42 & more"))

    # then it is cut to Daraja's 13 safe characters
    assert _sent_body(rsps)["TransactionDesc"] == "Legal fee 42"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"phone_number": "0202345678"}, "phone_number"),
        ({"amount": 100.5}, "amount"),
        ({"amount": "1500"}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": 250_001}, "amount"),
        ({"account_reference": "BOOKING-1042X"}, "account_reference"),
        ({"callback_url": "https://x.example/c b/"}, "callback_url"),
    ],
)
def test_stk_push_validates_before_any_request(rsps, client, overrides, field):
    # given Daraja would answer anything
    add_token(rsps)
    rsps.post(PUSH_URL, json=load("stk_push_accepted"))

    # when a push has one invalid input
    with pytest.raises(DarajaValidationError) as excinfo:
        client.stk_push(**push_kwargs(**overrides))

    # then it names the field and nothing was sent, not even OAuth
    assert excinfo.value.field == field
    assert len(rsps.calls) == 0


def test_stk_push_production_refuses_http_callback(rsps, cache):
    # given a production client with an http callback URL
    client = make_client(
        cache, environment="production", callback_url="http://hakiyetu.example/cb/"
    )

    # when a push is made
    with pytest.raises(DarajaValidationError) as excinfo:
        client.stk_push(**push_kwargs())

    # then it is refused before sending
    assert excinfo.value.field == "callback_url"
    assert len(rsps.calls) == 0


def test_stk_push_without_any_callback_url_is_refused(rsps, cache):
    # given no callback URL in the configuration
    client = make_client(cache, callback_url="")

    # when a push gives none either
    with pytest.raises(DarajaValidationError) as excinfo:
        client.stk_push(**push_kwargs())

    # then it is refused before sending
    assert excinfo.value.field == "callback_url"
    assert len(rsps.calls) == 0
