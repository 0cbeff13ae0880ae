"""The real Daraja client against the real simulator, over local HTTP."""

import uuid

import pytest
import requests
from django.core.cache.backends.locmem import LocMemCache

from daraja_simulator.tests.fixtures import (  # noqa: F401 - fixtures
    KEY,
    OAUTH_PATH,
    PASSKEY,
    QUERY_PATH,
    SECRET,
    SHORT_CODE,
    SUCCESS_PHONE,
    daraja_fixture,
    receiver_fixture,
    simulator_fixture,
    wait_until,
)
from payments.daraja.client import DarajaClient
from payments.daraja.exceptions import (
    DarajaOutcomeUnknown,
    DarajaRejected,
    DarajaUnavailable,
)
from payments.daraja.types import DarajaConfig


def _client(simulator, receiver, read_timeout=5.0):
    config = DarajaConfig(
        environment="sandbox",
        base_url=simulator.base_url,
        consumer_key=KEY,
        consumer_secret=SECRET,
        business_short_code=SHORT_CODE,
        passkey=PASSKEY,
        transaction_type="CustomerPayBillOnline",
        party_b="",
        callback_url=receiver.url,
        connect_timeout=2.0,
        read_timeout=read_timeout,
        backoff_base=0.01,
        backoff_cap=0.05,
    )
    return DarajaClient(
        config,
        cache=LocMemCache(f"simulator-client-{uuid.uuid4()}", {}),
        session=requests.Session(),
        sleep=lambda seconds: None,
    )


@pytest.fixture(name="client")
def client_fixture(simulator, receiver):
    return _client(simulator, receiver)


def _push(client, phone=SUCCESS_PHONE, amount=1500):
    return client.stk_push(
        phone_number=phone,
        amount=amount,
        account_reference="BK1042",
        transaction_desc="Consultation",
    )


def _oauth_count(daraja):
    return daraja.control("GET", f"requests?path={OAUTH_PATH}")["count"]


def test_client_fetches_one_token_for_many_calls(client, daraja):
    # when
    for n in range(5):
        result = _push(client, phone=f"2547220000{n:02d}")
        client.stk_query(checkout_request_id=result.checkout_request_id)

    # then
    assert _oauth_count(daraja) == 1


def test_client_push_then_query_processing_then_final(client, daraja):
    # given
    daraja.control("POST", "config", {"callback_delay": 30})
    pushed = _push(client)

    # when
    before = client.stk_query(checkout_request_id=pushed.checkout_request_id)
    daraja.control("POST", "decide", {})
    after = client.stk_query(checkout_request_id=pushed.checkout_request_id)

    # then
    assert pushed.response_code == "0"
    assert before.is_processing is True
    assert before.result_code is None
    assert after.is_processing is False
    assert after.result_code == "0"


def test_client_query_reports_cancel_as_string_code(client, daraja):
    # given
    pushed = _push(client, phone="0711 000 123")

    # when
    result = wait_until(
        lambda: (
            (
                r := client.stk_query(checkout_request_id=pushed.checkout_request_id)
            ).result_code
            and r
        )
    )

    # then
    assert result.result_code == "1032"


def test_client_sees_locked_subscriber(client, daraja):
    # given
    daraja.control("POST", "config", {"callback_delay": 30})
    _push(client)

    # when
    with pytest.raises(DarajaRejected) as caught:
        _push(client)

    # then
    assert caught.value.is_subscriber_locked is True


def test_client_refreshes_token_replaced_elsewhere(client, daraja):
    # given: another process fetched a token, invalidating ours
    _push(client, phone="254722000001")
    daraja.get_token()

    # when
    result = _push(client, phone="254722000002")

    # then
    assert result.response_code == "0"
    assert _oauth_count(daraja) == 3


def test_client_push_produces_real_callback(client, receiver):
    # when
    pushed = _push(client, amount=2500)

    # then
    callback = wait_until(lambda: receiver.bodies)[0]["Body"]["stkCallback"]
    assert callback["CheckoutRequestID"] == pushed.checkout_request_id
    assert callback["ResultCode"] == 0


def test_client_query_retries_through_503(client, daraja):
    # given
    pushed = _push(client)
    daraja.control(
        "POST", "faults", {"fault": "http_error", "endpoint": "query", "status": 503}
    )

    # when
    client.stk_query(checkout_request_id=pushed.checkout_request_id)

    # then
    statuses = [
        e["response_status"]
        for e in daraja.control("GET", f"requests?path={QUERY_PATH}")["requests"]
    ]
    assert statuses[0] == 503
    assert len(statuses) == 2


def test_client_push_429_is_unavailable(client, daraja):
    # given
    daraja.control(
        "POST",
        "faults",
        {"fault": "http_error", "endpoint": "push", "status": 429, "retry_after": 2},
    )

    # when
    with pytest.raises(DarajaUnavailable) as caught:
        _push(client)

    # then
    assert caught.value.retry_after == 2


def test_client_slow_push_is_outcome_unknown_but_happened(simulator, receiver, daraja):
    # given
    client = _client(simulator, receiver, read_timeout=0.2)
    daraja.control(
        "POST", "faults", {"fault": "slow", "endpoint": "push", "seconds": 1}
    )

    # when
    with pytest.raises(DarajaOutcomeUnknown):
        _push(client)

    # then
    wait_until(lambda: receiver.bodies)
    assert daraja.control("GET", "ledger")["successful_count"] == 1
