"""``POST /api/payment/result/<secret>`` and ``/api/payment/timeout/<secret>``:
raw JSON posted to the real URLs, every kind of bad input, the secret, the
allowlist, the size limit and the disk spool."""

import json

import pytest
from django.db import OperationalError
from rest_framework.test import APIClient

from payments.models import PaymentEvent, Refund
from payments.services import async_results, spool
from payments.services.callbacks import payment_replay_spooled_callbacks
from payments.tests.conftest import result_url
from payments.tests.result_support import (
    as_bytes,
    reversal_result,
    submitted_refund,
    timeout_notice,
)

pytestmark = pytest.mark.django_db
ACK = {"ResultCode": 0, "ResultDesc": "Accepted"}
Status = Refund.Status


@pytest.fixture
def client() -> APIClient:
    return APIClient(enforce_csrf_checks=True)


@pytest.fixture(autouse=True)
def _spool_dir(settings, tmp_path):
    settings.CALLBACK_SPOOL_DIR = str(tmp_path / "spool")


def _post(client, body: bytes, endpoint: str = "result", **extra):
    return client.generic(
        "POST", result_url(endpoint), body, content_type="application/json", **extra
    )


def test_result_api_applies_a_result_and_acknowledges(client, fake_daraja):
    # given a submitted reversal
    refund = submitted_refund(fake_daraja)

    # when its result is posted
    response = _post(client, as_bytes(reversal_result(refund)))

    # then Daraja gets its acknowledgement and the refund completed
    assert (response.status_code, response.json()) == (200, ACK)
    refund.refresh_from_db()
    assert refund.status == Status.COMPLETED
    event = PaymentEvent.objects.get(refund=refund, kind="result")
    assert event.source_ip == "127.0.0.1"
    assert json.loads(event.raw_body) == reversal_result(refund)


def test_result_api_timeout_url_leaves_the_refund_unknown(client, fake_daraja):
    # given a submitted reversal
    refund = submitted_refund(fake_daraja)

    # when the queue time-out notice is posted to the time-out URL
    body = timeout_notice(str(refund.originator_conversation_id))
    response = _post(client, as_bytes(body), "timeout")

    # then it is acknowledged, stored as a time-out, the refund unknown
    assert (response.status_code, response.json()) == (200, ACK)
    refund.refresh_from_db()
    assert refund.status == Status.UNKNOWN
    assert PaymentEvent.objects.filter(refund=refund, kind="queue_timeout").exists()


def test_result_api_acknowledges_duplicates_and_unmatched(client, fake_daraja):
    # given a completed refund
    refund = submitted_refund(fake_daraja)
    _post(client, as_bytes(reversal_result(refund)))

    # when the result comes again, and a result nobody sent
    again = _post(client, as_bytes(reversal_result(refund)))
    stranger = _post(client, as_bytes(timeout_notice("nobody", "AG_NOBODY")))

    # then both are acknowledged and stored
    assert again.json() == ACK
    assert stranger.json() == ACK
    assert PaymentEvent.objects.filter(kind="result").count() == 3


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"",
        b"[1, 2]",
        b'"Result"',
        b"{}",
        b'{"Result": []}',
        b'{"Result": {"ResultCode": 0}}',
        b'{"Result": {"ResultCode": {"a": 1}, "ConversationID": "AG_1"}}',
        b'{"Result": {"ResultCode": true, "ConversationID": "AG_1"}}',
        b'{"Result": {"ResultCode": 0, "ConversationID": ["AG_1"]}}',
        b'{"Result": {"ResultCode": 0, "ConversationID": "AG_1", "ResultType": "x"}}',
        b'{"Result": {"ResultCode": 0, "ConversationID": "AG_1", '
        b'"ResultParameters": {"ResultParameter": [1]}}}',
        b'{"Result": {"ResultCode": 0, "ConversationID": "AG_1", '
        b'"ResultParameters": {"ResultParameter": [{"Key": "A", "Value": {}}]}}}',
        b"\xff\xfe\x00",
    ],
)
@pytest.mark.parametrize("endpoint", ["result", "timeout"])
def test_result_api_bad_input_is_stored_then_refused_400(client, body, endpoint):
    # when a body that is not a Daraja Result is posted
    response = _post(client, body, endpoint)

    # then it is stored, and refused in the API's error shape (never 500)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_result"
    event = PaymentEvent.objects.get()
    assert event.error.startswith("malformed")
    assert event.kind == ("queue_timeout" if endpoint == "timeout" else "result")


def test_result_api_result_without_code_is_400_a_notice_without_one_is_taken(client):
    # given a body with an id and no ResultCode
    body = b'{"Result": {"ConversationID": "AG_1"}}'

    # when it is posted as a result, and as a queue time-out notice
    as_result = _post(client, body)
    as_notice = _post(client, body, "timeout")

    # then a result needs its code; a notice may lack it
    assert (as_result.status_code, as_notice.status_code) == (400, 200)


def test_result_api_ids_holding_nul_match_nothing_never_500(client):
    # when a Result's ids hold NUL (PostgreSQL refuses NUL in a query)
    body = b'{"Result": {"ResultCode": 0, "ConversationID": "AG_\\u0000", '
    body += b'"OriginatorConversationID": "\\u0000"}}'
    response = _post(client, body)

    # then it is stored and acknowledged, matched to nothing
    assert response.status_code == 200
    event = PaymentEvent.objects.get()
    assert (event.refund_id, event.status_check_id) == (None, None)


def test_result_api_number_out_of_range_is_kept_raw_not_500(client):
    # when a Result carries 1e309 (infinity for a JSON column)
    body = b'{"Result": {"ResultCode": 0, "ConversationID": "AG_1", "x": 1e309}}'
    response = _post(client, body)

    # then it is acknowledged and kept raw only
    assert response.status_code == 200
    event = PaymentEvent.objects.get()
    assert (event.raw_body, event.request_body) == (body.decode(), None)


def test_result_api_body_over_64_kib_is_refused_413_unstored(client):
    # when a body over 64 KiB is posted
    body = b'{"Result": {"x": "' + b"a" * (64 * 1024) + b'"}}'
    response = _post(client, body)

    # then it is refused before storing
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert not PaymentEvent.objects.exists()


@pytest.mark.parametrize("endpoint", ["result", "timeout"])
def test_result_api_wrong_secret_is_404(client, endpoint):
    # when the path's secret is wrong (the callback's, say)
    response = client.generic(
        "POST",
        result_url(endpoint, secret="test-callback-secret-0123456789"),
        b"{}",
        content_type="application/json",
    )

    # then 404, nothing stored
    assert response.status_code == 404
    assert not PaymentEvent.objects.exists()


def test_result_api_empty_secret_setting_refuses_everything(client, settings):
    # given no result secret configured
    settings.MPESA_RESULT_SECRET = ""

    # when anything is posted
    response = client.generic(
        "POST", "/api/payment/result/x", b"{}", content_type="application/json"
    )

    # then 404
    assert response.status_code == 404


@pytest.mark.parametrize("endpoint", ["result", "timeout"])
def test_result_api_address_outside_allowlist_is_403(client, settings, endpoint):
    # given an allowlist of Safaricom's addresses
    settings.MPESA_CALLBACK_ALLOWED_IPS = ["196.201.214.0/24"]

    # when another address posts
    response = _post(client, b"{}", endpoint)

    # then 403 in the error shape, nothing stored
    assert response.status_code == 403
    assert "error" in response.json()
    assert not PaymentEvent.objects.exists()


def test_result_api_address_inside_allowlist_is_taken(client, settings):
    # given the allowlist holds the caller
    settings.MPESA_CALLBACK_ALLOWED_IPS = ["127.0.0.0/8"]

    # when it posts a notice
    response = _post(client, as_bytes(timeout_notice("a", "AG_1")), "timeout")

    # then it is acknowledged
    assert response.status_code == 200


def test_result_api_database_down_spools_then_replays(client, fake_daraja, monkeypatch):
    # given a submitted refund, and the database unreachable for storing
    refund = submitted_refund(fake_daraja)

    def refuse(**kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed")

    monkeypatch.setattr(async_results, "result_store_and_route", refuse)

    # when its result arrives
    response = _post(client, as_bytes(reversal_result(refund)))

    # then Daraja gets its acknowledgement and the body waits on disk
    assert response.json() == ACK
    assert spool.spool_count() == 1
    monkeypatch.undo()

    # when the spool is replayed
    payment_replay_spooled_callbacks()

    # then the result is stored and applied
    refund.refresh_from_db()
    assert refund.status == Status.COMPLETED
    assert spool.spool_count() == 0
    assert PaymentEvent.objects.filter(refund=refund, kind="result").count() == 1
