"""STK push query: results, "being processed", retries with backoff."""

import base64
import json

import pytest
import requests

from payments.daraja.client import backoff_delay
from payments.daraja.exceptions import (
    DarajaRejected,
    DarajaUnavailable,
    DarajaValidationError,
)
from payments.tests.daraja.support import (
    PASSKEY,
    QUERY_URL,
    SHORTCODE,
    add_token,
    calls_to,
    load,
    make_client,
)

CHECKOUT_ID = "ws_CO_13012021093521236557"


@pytest.fixture
def client(cache, sleep):
    """The shared client, with a backoff the retry tests can predict."""
    return make_client(cache, sleep, backoff_base=0.5, backoff_cap=8.0)


def test_stk_query_sends_checkout_id_and_password(rsps, client):
    # given Daraja answers the query
    add_token(rsps)
    rsps.post(QUERY_URL, json=load("stk_query_success"))

    # when a query is made
    client.stk_query(checkout_request_id=CHECKOUT_ID)

    # then the body has the shortcode, a matching password and the id
    body = json.loads(calls_to(rsps, QUERY_URL)[0].request.body)
    assert body["BusinessShortCode"] == 174379
    assert body["CheckoutRequestID"] == CHECKOUT_ID
    decoded = base64.b64decode(body["Password"]).decode()
    assert decoded == f"{SHORTCODE}{PASSKEY}{body['Timestamp']}"


def test_stk_query_success_has_string_result_code(rsps, client):
    # given Daraja reports the payment processed
    add_token(rsps)
    rsps.post(QUERY_URL, json=load("stk_query_success"))

    # when a query is made
    result = client.stk_query(checkout_request_id=CHECKOUT_ID)

    # then the result is final and successful, with no receipt
    assert result.result_code == "0"
    assert result.is_success is True
    assert result.is_processing is False
    assert result.merchant_request_id == "22205-34066-1"
    assert result.raw == load("stk_query_success")


@pytest.mark.parametrize(
    ("code", "expected"), [("1032", "1032"), (1032, "1032"), (" 1037 ", "1037")]
)
def test_stk_query_result_code_is_normalised(rsps, client, code, expected):
    # given Daraja reports a failure code as a string or a number
    add_token(rsps)
    rsps.post(QUERY_URL, json=load("stk_query_cancelled") | {"ResultCode": code})

    # when a query is made
    result = client.stk_query(checkout_request_id=CHECKOUT_ID)

    # then the code is a stripped string
    assert result.result_code == expected
    assert result.is_success is False


def test_stk_query_being_processed_is_not_an_error(rsps, client, sleep):
    # given the customer has not answered yet
    add_token(rsps)
    rsps.post(QUERY_URL, status=500, json=load("stk_query_processing"))

    # when a query is made
    result = client.stk_query(checkout_request_id=CHECKOUT_ID)

    # then the result says "not final", without retrying
    assert result.is_processing is True
    assert result.result_code is None
    assert result.result_desc == "The transaction is being processed"
    assert len(calls_to(rsps, QUERY_URL)) == 1
    assert sleep.delays == []


def test_stk_query_other_500_001_1001_raises_rejected(rsps, client):
    # given Daraja answers the shared code with another meaning
    add_token(rsps)
    rsps.post(QUERY_URL, status=500, json=load("stk_push_wrong_credentials"))

    # when a query is made
    # then it is a rejection, not "processing"
    with pytest.raises(DarajaRejected):
        client.stk_query(checkout_request_id=CHECKOUT_ID)


def test_stk_query_rejection_is_not_retried(rsps, client, sleep):
    # given Daraja refuses the query
    add_token(rsps)
    rsps.post(QUERY_URL, status=400, json=load("stk_push_invalid_phone"))

    # when a query is made
    with pytest.raises(DarajaRejected):
        client.stk_query(checkout_request_id=CHECKOUT_ID)

    # then it was sent once
    assert len(calls_to(rsps, QUERY_URL)) == 1
    assert sleep.delays == []


def test_stk_query_retries_with_bounded_jittered_backoff(rsps, client, sleep):
    # given Daraja fails twice (503, spike arrest), then answers
    add_token(rsps)
    rsps.post(QUERY_URL, status=503, body="")
    rsps.post(QUERY_URL, status=500, json=load("spike_arrest"))
    rsps.post(QUERY_URL, json=load("stk_query_success"))

    # when a query is made
    result = client.stk_query(checkout_request_id=CHECKOUT_ID)

    # then it succeeded on the third attempt after two capped waits
    assert result.result_code == "0"
    assert len(calls_to(rsps, QUERY_URL)) == 3
    assert len(sleep.delays) == 2
    assert 0 <= sleep.delays[0] <= 0.5
    assert 0 <= sleep.delays[1] <= 1.0


def test_stk_query_gives_up_after_max_attempts(rsps, client, sleep):
    # given Daraja keeps timing out
    add_token(rsps)
    rsps.post(QUERY_URL, body=requests.ReadTimeout("read timed out"))

    # when a query is made
    with pytest.raises(DarajaUnavailable):
        client.stk_query(checkout_request_id=CHECKOUT_ID)

    # then it tried max_attempts (3) times and slept between them only
    assert len(calls_to(rsps, QUERY_URL)) == 3
    assert len(sleep.delays) == 2


def test_stk_query_honours_retry_after(rsps, client, sleep):
    # given Daraja asks to wait 3 seconds, then answers
    add_token(rsps)
    rsps.post(QUERY_URL, status=429, body="", headers={"Retry-After": "3"})
    rsps.post(QUERY_URL, json=load("stk_query_success"))

    # when a query is made
    client.stk_query(checkout_request_id=CHECKOUT_ID)

    # then it waited at least the time asked for
    assert sleep.delays == [3.0]


def test_stk_query_long_retry_after_is_raised_not_slept(rsps, client, sleep):
    # given Daraja asks to wait longer than the backoff cap
    add_token(rsps)
    rsps.post(QUERY_URL, status=429, body="", headers={"Retry-After": "120"})

    # when a query is made
    with pytest.raises(DarajaUnavailable) as excinfo:
        client.stk_query(checkout_request_id=CHECKOUT_ID)

    # then the caller gets the wait to reschedule; nothing was slept
    assert excinfo.value.retry_after == 120.0
    assert len(calls_to(rsps, QUERY_URL)) == 1
    assert sleep.delays == []


@pytest.mark.parametrize("value", ["", "   ", None])
def test_stk_query_needs_a_checkout_request_id(rsps, client, value):
    # given no CheckoutRequestID
    # when a query is made
    with pytest.raises(DarajaValidationError) as excinfo:
        client.stk_query(checkout_request_id=value)

    # then it is refused before sending
    assert excinfo.value.field == "checkout_request_id"
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 5, 6, 7, 8])
def test_backoff_delay_stays_within_the_capped_exponential(attempt):
    # given attempt n with base 0.5 s and cap 8 s
    ceiling = min(8.0, 0.5 * 2 ** (attempt - 1))

    # when many delays are drawn
    delays = [backoff_delay(attempt, base=0.5, cap=8.0) for _ in range(200)]

    # then each is full jitter in [0, min(cap, base * 2**(n-1))]
    assert all(0 <= delay <= ceiling for delay in delays)
    assert len(set(delays)) > 1


def test_backoff_delay_uses_retry_after_as_a_floor():
    # given Daraja asked for 5 s after the first attempt
    # when the delay is drawn
    delay = backoff_delay(1, base=0.5, cap=8.0, retry_after=5.0)

    # then it is at least 5 s
    assert delay >= 5.0
