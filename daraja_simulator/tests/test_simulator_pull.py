"""Pull Transactions: register, then query the ledger's payments in."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests

from daraja_simulator.tests.fixtures import (  # noqa: F401 - fixtures
    SHORT_CODE,
    receiver_fixture,
)
from daraja_simulator.tests.initiator_fixtures import (  # noqa: F401 - fixtures
    initiator_fixture,
    money_sim_fixture,
    results_fixture,
)
from daraja_simulator.tests.ledger_fixtures import PAYBILL_PHONE, fill_ledger

REGISTER_PATH = "/pulltransactions/v1/register"
QUERY_PATH = "/pulltransactions/v1/query"
PULL_DATE = "%Y-%m-%d %H:%M:%S"
NAIROBI = ZoneInfo("Africa/Nairobi")


def _register(caller, **overrides) -> requests.Response:
    body = {
        "ShortCode": SHORT_CODE,
        "RequestType": "Pull",
        "NominatedNumber": "254708374149",
        "CallBackURL": caller.callback_url,
    } | overrides
    return caller.post(REGISTER_PATH, body)


def _query(caller, offset: int = 0, hours: float = 2, **overrides):
    now = datetime.now(NAIROBI)
    body = {
        "ShortCode": SHORT_CODE,
        "StartDate": (now - timedelta(hours=hours)).strftime(PULL_DATE),
        "EndDate": (now + timedelta(minutes=1)).strftime(PULL_DATE),
        "OffSetValue": str(offset),
    } | overrides
    return caller.post(QUERY_PATH, body)


def _rows(answer: requests.Response) -> list[dict]:
    return [row for page in answer.json()["Response"] for row in page]


def test_register_answers_success_then_already_registered(initiator):
    first = _register(initiator)
    second = _register(initiator)
    assert first.status_code == 200
    assert first.json()["ResponseDescription"] == "Shortcode Registered Successfully"
    assert first.json()["ShortCode"] == SHORT_CODE
    assert second.json()["ResponseDescription"] == "Shortcode already registered"
    listing = initiator.control("GET", "pull")["registrations"]
    assert listing[0]["nominated_number"] == "2547******149"


def test_register_refuses_a_nominated_number_not_in_254_format(initiator):
    answer = _register(initiator, NominatedNumber="0708374149")
    assert answer.status_code == 400
    assert answer.json()["errorMessage"] == "Bad Request - Invalid NominatedNumber"


def test_query_before_register_is_refused(initiator):
    answer = _query(initiator)
    assert answer.status_code == 400
    assert "not registered" in answer.json()["errorMessage"]


def test_query_returns_payments_in_even_with_a_lost_callback(initiator):
    # given
    receipts = fill_ledger(initiator)
    _register(initiator)

    # when
    answer = _query(initiator)

    # then
    assert answer.status_code == 200
    assert answer.json()["ResponseCode"] == "1000"
    rows = {row["transactionId"]: row for row in _rows(answer)}
    assert set(rows) == {receipts["lost"], receipts["paybill"], receipts["reversed"]}
    paybill = rows[receipts["paybill"]]
    assert paybill["msisdn"] == PAYBILL_PHONE
    assert paybill["billreference"] == "hy-b00043"
    assert paybill["amount"] == "1500.00"
    assert paybill["transactiontype"] == "c2b-pay-bill-debit"
    assert paybill["organizationname"] == "Haki Yetu"
    assert datetime.fromisoformat(paybill["trxDate"]).year >= 2026


def test_query_pages_by_offset_value(initiator):
    # given
    fill_ledger(initiator)
    _register(initiator)
    initiator.control("POST", "config", {"pull_page_size": 2})

    # when
    pages = [_query(initiator, offset=offset) for offset in (0, 2, 3)]

    # then
    assert [len(_rows(page)) for page in pages] == [2, 1, 0]
    assert pages[2].json()["ResponseCode"] == "1001"
    seen = [row["transactionId"] for page in pages[:2] for row in _rows(page)]
    assert len(set(seen)) == 3


def test_query_sees_only_the_last_48_hours(initiator):
    # given
    fill_ledger(initiator)
    _register(initiator)
    now = datetime.now(NAIROBI)

    # when
    old = _query(
        initiator,
        StartDate=(now - timedelta(days=5)).strftime(PULL_DATE),
        EndDate=(now - timedelta(days=3)).strftime(PULL_DATE),
    )

    # then
    assert old.json()["ResponseCode"] == "1001"
    assert _rows(old) == []


def test_query_refuses_a_date_in_another_layout(initiator):
    _register(initiator)
    answer = _query(initiator, StartDate="2026-12-02T10:00:00")
    assert answer.status_code == 400
    assert answer.json()["errorMessage"] == "Bad Request - Invalid StartDate"


def test_query_fault_answers_a_500_and_the_next_query_works(initiator):
    # given
    _register(initiator)
    initiator.control(
        "POST",
        "faults",
        {"fault": "http_error", "endpoint": "pull_query", "status": 500},
    )

    # when
    failed = _query(initiator)
    again = _query(initiator)

    # then
    assert failed.status_code == 500
    assert failed.json()["errorCode"] == "500.003.1001"
    assert again.status_code == 200
