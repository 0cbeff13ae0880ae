"""How each Daraja failure maps to the adapter's exceptions."""

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from payments.daraja.exceptions import (
    DarajaAuthError,
    DarajaOutcomeUnknown,
    DarajaRejected,
    DarajaUnavailable,
)
from payments.tests.daraja.support import (
    PUSH_URL,
    add_token,
    calls_to,
    load,
    push_kwargs,
)


def _refused_connection() -> requests.ConnectionError:
    reason = NewConnectionError(None, "Failed to establish a new connection")
    return requests.ConnectionError(MaxRetryError(None, PUSH_URL, reason))


def _dropped_connection() -> requests.ConnectionError:
    reason = ProtocolError("Connection aborted.", ConnectionResetError(104))
    return requests.ConnectionError(reason)


def test_stk_push_bad_request_raises_rejected(rsps, client):
    # given Daraja refuses the phone number with 400.002.02
    add_token(rsps)
    rsps.post(PUSH_URL, status=400, json=load("stk_push_invalid_phone"))

    # when a push is made
    with pytest.raises(DarajaRejected) as excinfo:
        client.stk_push(**push_kwargs())

    # then Daraja's code, message, status and answer are kept
    error = excinfo.value
    assert error.error_code == "400.002.02"
    assert error.error_message == "Bad Request - Invalid PhoneNumber"
    assert error.http_status == 400
    assert error.raw == load("stk_push_invalid_phone")
    assert error.is_subscriber_locked is False


def test_stk_push_locked_subscriber_is_flagged(rsps, client):
    # given the customer already has a prompt open
    add_token(rsps)
    rsps.post(PUSH_URL, status=500, json=load("stk_push_subscriber_locked"))

    # when a push is made
    with pytest.raises(DarajaRejected) as excinfo:
        client.stk_push(**push_kwargs())

    # then the rejection says the subscriber is locked, and was sent once
    assert excinfo.value.error_code == "500.001.1001"
    assert excinfo.value.is_subscriber_locked is True
    assert len(calls_to(rsps, PUSH_URL)) == 1


def test_stk_push_wrong_credentials_is_not_a_locked_subscriber(rsps, client):
    # given Daraja answers 500.001.1001 "Wrong credentials"
    add_token(rsps)
    rsps.post(PUSH_URL, status=500, json=load("stk_push_wrong_credentials"))

    # when a push is made
    with pytest.raises(DarajaRejected) as excinfo:
        client.stk_push(**push_kwargs())

    # then it is a plain rejection (shared code, different meaning)
    assert excinfo.value.is_subscriber_locked is False


@pytest.mark.parametrize("fixture", ["spike_arrest", "quota_violation"])
def test_stk_push_throttled_raises_unavailable_without_retry(rsps, client, fixture):
    # given Daraja throttles the push
    add_token(rsps)
    rsps.post(PUSH_URL, status=500, json=load(fixture))

    # when a push is made
    with pytest.raises(DarajaUnavailable) as excinfo:
        client.stk_push(**push_kwargs())

    # then it is unavailable, and the push was sent once only
    assert excinfo.value.error_code == load(fixture)["errorCode"]
    assert len(calls_to(rsps, PUSH_URL)) == 1


def test_stk_push_429_carries_retry_after(rsps, client, sleep):
    # given Daraja answers 429 with Retry-After
    add_token(rsps)
    rsps.post(PUSH_URL, status=429, body="", headers={"Retry-After": "30"})

    # when a push is made
    with pytest.raises(DarajaUnavailable) as excinfo:
        client.stk_push(**push_kwargs())

    # then the wait is passed on, and nothing was retried or slept
    assert excinfo.value.retry_after == 30.0
    assert len(calls_to(rsps, PUSH_URL)) == 1
    assert sleep.delays == []


def test_stk_push_503_raises_unavailable(rsps, client):
    # given Daraja answers 503 Service Unavailable
    add_token(rsps)
    rsps.post(PUSH_URL, status=503, body="<html>Service Unavailable</html>")

    # when a push is made
    with pytest.raises(DarajaUnavailable) as excinfo:
        client.stk_push(**push_kwargs())

    # then it is unavailable
    assert excinfo.value.http_status == 503


@pytest.mark.parametrize(
    "exception",
    [
        requests.ConnectTimeout("connect timed out"),
        _refused_connection(),
        requests.exceptions.SSLError("certificate verify failed"),
        requests.exceptions.InvalidURL("bad host"),
    ],
)
def test_stk_push_not_sent_raises_unavailable(rsps, client, exception):
    # given the connection to Daraja cannot be made
    add_token(rsps)
    rsps.post(PUSH_URL, body=exception)

    # when a push is made
    with pytest.raises(DarajaUnavailable) as excinfo:
        client.stk_push(**push_kwargs())

    # then it is unavailable (nothing reached Daraja), chained to the cause
    assert excinfo.value.__cause__ is exception
    assert len(calls_to(rsps, PUSH_URL)) == 1


@pytest.mark.parametrize(
    "exception",
    [
        requests.ReadTimeout("read timed out"),
        _dropped_connection(),
        requests.exceptions.ChunkedEncodingError("Response ended prematurely"),
    ],
)
def test_stk_push_sent_without_answer_raises_outcome_unknown(rsps, client, exception):
    # given Daraja received the push but no answer came back
    add_token(rsps)
    rsps.post(PUSH_URL, body=exception)

    # when a push is made
    with pytest.raises(DarajaOutcomeUnknown):
        client.stk_push(**push_kwargs())

    # then exactly one push request was sent (never repeated)
    assert len(calls_to(rsps, PUSH_URL)) == 1


@pytest.mark.parametrize("status", [500, 502, 504])
def test_stk_push_gateway_error_raises_outcome_unknown(rsps, client, status):
    # given a gateway error without Daraja's error envelope
    add_token(rsps)
    rsps.post(PUSH_URL, status=status, body="<html>Gateway Timeout</html>")

    # when a push is made
    with pytest.raises(DarajaOutcomeUnknown) as excinfo:
        client.stk_push(**push_kwargs())

    # then the outcome is unknown (it may have been forwarded), sent once
    assert excinfo.value.http_status == status
    assert len(calls_to(rsps, PUSH_URL)) == 1


def test_stk_push_accepted_without_checkout_id_raises_outcome_unknown(rsps, client):
    # given a 200 answer that cannot be read
    add_token(rsps)
    rsps.post(PUSH_URL, status=200, body="<html>OK</html>")

    # when a push is made
    # then it may be under way but cannot be followed: outcome unknown
    with pytest.raises(DarajaOutcomeUnknown):
        client.stk_push(**push_kwargs())


def test_stk_push_non_zero_response_code_raises_rejected(rsps, client):
    # given Daraja answers 200 with a non-zero ResponseCode
    add_token(rsps)
    answer = load("stk_push_accepted") | {
        "ResponseCode": "1",
        "ResponseDescription": "Rejected",
    }
    rsps.post(PUSH_URL, json=answer)

    # when a push is made
    with pytest.raises(DarajaRejected) as excinfo:
        client.stk_push(**push_kwargs())

    # then the rejection carries that code
    assert excinfo.value.error_code == "1"


def test_stk_push_oauth_credentials_refused_raises_auth_error(rsps, client):
    # given the consumer key and secret are wrong
    add_token(rsps, "oauth_invalid_credentials", status=400)

    # when a push is made
    with pytest.raises(DarajaAuthError) as excinfo:
        client.stk_push(**push_kwargs())

    # then it is an auth error (a DarajaRejected) and no push was sent
    assert isinstance(excinfo.value, DarajaRejected)
    assert excinfo.value.error_code == "400.008.01"
    assert calls_to(rsps, PUSH_URL) == []


def test_stk_push_redirect_is_not_followed(rsps, client):
    # given Daraja's host answers with a redirect
    add_token(rsps)
    rsps.post(PUSH_URL, status=302, headers={"Location": "https://elsewhere.test/"})

    # when a push is made
    with pytest.raises(DarajaRejected) as excinfo:
        client.stk_push(**push_kwargs())

    # then the push was not resent to the new location
    assert excinfo.value.error_code == "http_302"
    assert len(rsps.calls) == 2  # OAuth and the one push
