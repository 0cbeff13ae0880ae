"""The on_exchange hook and the logs: complete, and free of secrets."""

import base64
import logging

import pytest
import requests

from payments.daraja.exceptions import DarajaOutcomeUnknown
from payments.daraja.redaction import REDACTED
from payments.tests.daraja.support import (
    CONSUMER_KEY,
    CONSUMER_SECRET,
    OAUTH_URL,
    PASSKEY,
    PHONE,
    PUSH_URL,
    QUERY_URL,
    TOKEN,
    add_token,
    calls_to,
    load,
    make_config,
    push_kwargs,
)


def _secrets(rsps) -> list[str]:
    """Every secret value that must never be stored or logged."""
    values = [CONSUMER_SECRET, PASSKEY, TOKEN, "new-token"]
    basic = base64.b64encode(f"{CONSUMER_KEY}:{CONSUMER_SECRET}".encode()).decode()
    values.append(basic)
    for call in calls_to(rsps, PUSH_URL) + calls_to(rsps, QUERY_URL):
        body = call.request.body
        body = body.decode() if isinstance(body, bytes) else body
        password = body.split('"Password": "')[1].split('"')[0]
        values.append(password)
    return values


def test_stk_push_reports_oauth_and_push_exchanges(rsps, client):
    # given Daraja issues a token and accepts the push
    add_token(rsps)
    rsps.post(PUSH_URL, json=load("stk_push_accepted"))
    exchanges = []

    # when a push is made with a hook
    client.stk_push(**push_kwargs(), on_exchange=exchanges.append)

    # then the hook saw the OAuth call and the push, in order
    assert [e.operation for e in exchanges] == ["oauth", "stk_push"]
    oauth, push = exchanges
    assert oauth.method == "GET"
    assert oauth.request_body is None
    assert oauth.response_body == {"access_token": REDACTED, "expires_in": 3599}
    assert push.method == "POST"
    assert push.url == PUSH_URL
    assert push.status_code == 200
    assert push.response_body == load("stk_push_accepted")
    assert push.request_body["Password"] == REDACTED
    assert push.request_body["PhoneNumber"] == int(PHONE)
    assert push.duration_ms >= 0
    assert push.error is None


def test_on_exchange_contains_no_secret(rsps, client):
    # given a push, a token refresh and a query
    rsps.get(OAUTH_URL, json=load("oauth_success"))
    rsps.get(OAUTH_URL, json={"access_token": "new-token", "expires_in": 3599})
    rsps.post(PUSH_URL, json=load("stk_push_accepted"))
    rsps.post(QUERY_URL, status=404, json=load("invalid_access_token"))
    rsps.post(QUERY_URL, json=load("stk_query_success"))
    exchanges = []

    # when they are made with a hook
    client.stk_push(**push_kwargs(), on_exchange=exchanges.append)
    client.stk_query(checkout_request_id="ws_CO_1", on_exchange=exchanges.append)

    # then no secret appears anywhere in what the hook received
    assert [e.operation for e in exchanges] == [
        "oauth",
        "stk_push",
        "stk_query",
        "oauth",
        "stk_query",
    ]
    stored = repr(exchanges)
    for secret in _secrets(rsps):
        assert secret not in stored


def test_on_exchange_records_a_failed_request(rsps, client):
    # given the push times out after sending
    add_token(rsps)
    rsps.post(PUSH_URL, body=requests.ReadTimeout("read timed out"))
    exchanges = []

    # when a push is made
    with pytest.raises(DarajaOutcomeUnknown):
        client.stk_push(**push_kwargs(), on_exchange=exchanges.append)

    # then the failed exchange was reported, with the error and no status
    failed = exchanges[-1]
    assert failed.operation == "stk_push"
    assert failed.status_code is None
    assert failed.response_body is None
    assert failed.error.startswith("ReadTimeout")


def test_on_exchange_failure_does_not_break_the_push(rsps, client, caplog):
    # given a hook that raises
    add_token(rsps)
    rsps.post(PUSH_URL, json=load("stk_push_accepted"))

    def broken_hook(exchange):
        raise RuntimeError("event log is down")

    # when a push is made
    with caplog.at_level(logging.ERROR, logger="payments.daraja"):
        result = client.stk_push(**push_kwargs(), on_exchange=broken_hook)

    # then the push still succeeds and the failure is logged with a trace
    assert result.checkout_request_id
    failures = [r for r in caplog.records if "on_exchange" in r.getMessage()]
    assert len(failures) == 2
    assert all(r.exc_info for r in failures)


def test_logs_contain_no_secret_or_full_phone(rsps, client, caplog):
    # given a push, a refused token, a refresh and a query
    rsps.get(OAUTH_URL, json=load("oauth_success"))
    rsps.get(OAUTH_URL, json={"access_token": "new-token", "expires_in": 3599})
    rsps.post(PUSH_URL, json=load("stk_push_accepted"))
    rsps.post(QUERY_URL, status=404, json=load("invalid_access_token"))
    rsps.post(QUERY_URL, json=load("stk_query_success"))

    # when they run with every log record captured
    with caplog.at_level(logging.DEBUG):
        client.stk_push(**push_kwargs())
        client.stk_query(checkout_request_id="ws_CO_1")
        client.access_token()

    # then the logs are useful but hold no secret and no full phone
    text = "\n".join(
        f"{r.getMessage()} {r.args!r} {r.__dict__!r}" for r in caplog.records
    )
    assert "2547******149" in text
    assert "refreshing" in text
    for secret in [*_secrets(rsps), PHONE, "0708374149", "708374149"]:
        assert secret not in text


def test_config_repr_hides_secrets():
    # given a configuration
    config = make_config()

    # when it is printed (tracebacks, debug pages)
    text = repr(config) + str(config)

    # then neither the secret nor the passkey shows
    assert CONSUMER_SECRET not in text
    assert PASSKEY not in text
    assert CONSUMER_KEY not in text
    assert "174379" in text


def test_stored_push_keeps_the_callback_url_without_its_secret(rsps, client):
    # given: the callback URL ends in the secret "Xf93kQ"
    add_token(rsps)
    rsps.post(PUSH_URL, json=load("stk_push_accepted"))
    exchanges = []
    # when
    client.stk_push(**push_kwargs(), on_exchange=exchanges.append)
    # then: the URL stays readable, the secret segment is gone
    push = exchanges[-1]
    assert push.request_body["CallBackURL"] == (
        f"https://hakiyetu.example/payments/lnm/cb/{REDACTED}/"
    )
    assert "Xf93kQ" not in repr(exchanges)


@pytest.mark.parametrize(
    "key", ["ResultURL", "QueueTimeOutURL", "ValidationURL", "ConfirmationURL"]
)
def test_every_url_we_send_daraja_is_stored_without_its_secret(key):
    # given
    from payments.daraja.redaction import redact_body

    body = {key: "https://api.hakiyetu.co.ke/api/payment/result/Sekr3t?x=Sekr3t"}
    # when
    stored = redact_body(body)
    # then
    assert stored[key].startswith("https://api.hakiyetu.co.ke/api/payment/result/")
    assert "Sekr3t" not in stored[key]
