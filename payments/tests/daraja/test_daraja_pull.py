"""Pull Transactions: the register and query bodies, the rows read from
the answers, and Daraja's errors mapped like every other call."""

import json
from datetime import datetime, timedelta

import pytest

from core.time import NAIROBI
from payments.daraja.exceptions import (
    DarajaRejected,
    DarajaUnavailable,
    DarajaValidationError,
)
from payments.daraja.types import PullPage, PullRegistration
from payments.tests.daraja.support import BASE_URL, add_token, calls_to, load

REGISTER_URL = f"{BASE_URL}/pulltransactions/v1/register"
QUERY_URL = f"{BASE_URL}/pulltransactions/v1/query"
START = datetime(2026, 12, 2, 8, 0, tzinfo=NAIROBI)
END = datetime(2026, 12, 2, 10, 0, tzinfo=NAIROBI)


def _register(client, **overrides):
    values = {
        "short_code": "600984",
        "nominated_number": "0722 000 108",
        "callback_url": "https://hakiyetu.example/payments/pull/cb/Xf93kQ/",
    } | overrides
    return client.pull_register(**values)


def _query(client, **overrides):
    values = {"short_code": "600984", "start": START, "end": END} | overrides
    return client.pull_transactions(**values)


def _sent(rsps, url):
    return json.loads(calls_to(rsps, url)[-1].request.body)


def test_pull_register_sends_the_nominated_number_in_254_format(client, rsps):
    # given
    add_token(rsps)
    rsps.post(REGISTER_URL, json=load("pull_register_success"))

    # when
    result = _register(client)

    # then
    assert _sent(rsps, REGISTER_URL) == {
        "ShortCode": "600984",
        "RequestType": "Pull",
        "NominatedNumber": "254722000108",
        "CallBackURL": "https://hakiyetu.example/payments/pull/cb/Xf93kQ/",
    }
    assert isinstance(result, PullRegistration)
    assert result.response_description == "Shortcode Registered Successfully"
    assert result.already_registered is False
    assert result.raw == load("pull_register_success")


def test_pull_register_refuses_a_bad_number_before_sending(client, rsps):
    with pytest.raises(DarajaValidationError) as caught:
        _register(client, nominated_number="0202 123 456")
    assert caught.value.field == "nominated_number"
    assert calls_to(rsps, BASE_URL) == []


def test_pull_register_error_answer_is_a_rejection(client, rsps):
    # given
    add_token(rsps)
    rsps.post(
        REGISTER_URL,
        status=400,
        json={
            "requestId": "1-2-3",
            "errorCode": "400.002.02",
            "errorMessage": "Bad Request - Invalid ShortCode",
        },
    )

    # when / then
    with pytest.raises(DarajaRejected) as caught:
        _register(client)
    assert caught.value.error_code == "400.002.02"


def test_pull_transactions_sends_nairobi_dates_and_the_offset(client, rsps):
    # given
    add_token(rsps)
    rsps.post(QUERY_URL, json=load("pull_query_none"))

    # when
    _query(
        client,
        start=datetime(2026, 12, 2, 5, 0, tzinfo=NAIROBI) - timedelta(hours=3),
        end=END,
        offset=200,
    )

    # then
    assert _sent(rsps, QUERY_URL) == {
        "ShortCode": "600984",
        "StartDate": "2026-12-02 02:00:00",
        "EndDate": "2026-12-02 10:00:00",
        "OffSetValue": "200",
    }


def test_pull_transactions_reads_the_rows(client, rsps):
    # given
    add_token(rsps)
    rsps.post(QUERY_URL, json=load("pull_query_rows"))

    # when
    page = _query(client)

    # then
    assert isinstance(page, PullPage)
    assert page.response_code == "1000"
    assert page.size == 2
    first, second = page.rows
    assert first.transaction_id == "SL12LM7XKD"
    assert first.trx_date == datetime(2026, 12, 2, 10, 15, 30, tzinfo=NAIROBI)
    assert first.msisdn == "254722000108"
    assert first.transaction_type == "c2b-pay-bill-debit"
    assert first.bill_reference == "hy-b00042"
    assert first.amount == 3000
    assert first.organization_name == "Haki Yetu"
    assert first.raw == load("pull_query_rows")["Response"][0][0]
    assert second.trx_date == datetime(2026, 12, 2, 10, 20, tzinfo=NAIROBI)
    assert second.msisdn == "2547 ***** 126"


def test_pull_transactions_keeps_an_amount_with_cents_as_text(client, rsps):
    # given
    add_token(rsps)
    rsps.post(QUERY_URL, json=load("pull_query_rows"))

    # when
    row = _query(client).rows[1]

    # then
    assert row.amount is None
    assert row.amount_is_whole is False
    assert row.amount_text == "1,499.50"


def test_pull_transactions_1001_is_an_empty_page(client, rsps):
    # given
    add_token(rsps)
    rsps.post(QUERY_URL, json=load("pull_query_none"))

    # when
    page = _query(client)

    # then
    assert page.rows == ()
    assert page.size == 0
    assert page.response_code == "1001"


def test_pull_transactions_keeps_unreadable_rows_apart(client, rsps):
    # given
    body = load("pull_query_rows")
    body["Response"] = [{"transactionId": "", "trxDate": "x"}, "junk"]
    add_token(rsps)
    rsps.post(QUERY_URL, json=body)

    # when
    page = _query(client)

    # then
    assert page.rows == ()
    assert page.unreadable == ({"transactionId": "", "trxDate": "x"}, {"row": "junk"})
    assert page.size == 2


def test_pull_transactions_another_response_code_is_a_rejection(client, rsps):
    # given
    add_token(rsps)
    rsps.post(QUERY_URL, json={"ResponseCode": "500", "ResponseMessage": "Error"})

    # when / then
    with pytest.raises(DarajaRejected) as caught:
        _query(client)
    assert caught.value.error_code == "500"


def test_pull_transactions_is_retried_while_daraja_is_busy(client, rsps, sleep):
    # given
    add_token(rsps)
    rsps.post(QUERY_URL, status=503, body="<html>503</html>")
    rsps.post(QUERY_URL, json=load("pull_query_none"))

    # when
    page = _query(client)

    # then
    assert page.response_code == "1001"
    assert len(calls_to(rsps, QUERY_URL)) == 2
    assert len(sleep.delays) == 1


def test_pull_transactions_gives_up_after_every_attempt(client, rsps):
    add_token(rsps)
    rsps.post(QUERY_URL, status=503, body="<html>503</html>")
    with pytest.raises(DarajaUnavailable):
        _query(client)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"start": datetime(2026, 12, 2, 8, 0)}, "start"),  # noqa: DTZ001
        ({"end": START - timedelta(seconds=1)}, "end"),
        ({"offset": -1}, "offset"),
        ({"short_code": "60-09"}, "short_code"),
    ],
)
def test_pull_transactions_refuses_bad_input_before_sending(
    client, rsps, overrides, field
):
    with pytest.raises(DarajaValidationError) as caught:
        _query(client, **overrides)
    assert caught.value.field == field
    assert calls_to(rsps, BASE_URL) == []


def test_pull_exchange_is_reported_without_the_token(client, rsps):
    # given
    add_token(rsps)
    rsps.post(QUERY_URL, json=load("pull_query_rows"))
    seen = []

    # when
    _query(client, on_exchange=seen.append)

    # then
    operations = [exchange.operation for exchange in seen]
    assert operations == ["oauth", "pull_query"]
    assert seen[1].response_body["Response"][0][0]["transactionId"] == "SL12LM7XKD"
    assert "c9SQxWWhmdVRlyh0zh8gZDTkubVF" not in json.dumps(
        [exchange.response_body for exchange in seen]
    )
