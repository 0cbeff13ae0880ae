"""Pull Transactions: ``pull_fetch`` paging (a fake client at the seam),
``manage.py mpesa_pull_register`` (``responses``) and both against the
simulator, with every exchange stored."""

import io
import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests
import responses
from django.core.management import CommandError, call_command
from django.utils import timezone

from core.time import NAIROBI
from daraja_simulator import SimulatorServer
from daraja_simulator.tests.fixtures import (
    SHORT_CODE,
    CallbackReceiver,
    DarajaCaller,
    start_simulator,
    use_simulator,
    wait_until,
)
from payments.daraja.types import PullPage, PullTransaction
from payments.models import PaymentEvent
from payments.services import pull
from payments.services.pull import pull_fetch
from payments.tests.daraja.support import OAUTH_URL, load

pytestmark = pytest.mark.django_db
SANDBOX = "https://sandbox.safaricom.co.ke"
NOMINATED = "254722000108"
PULL_CALLBACK = "https://hakiyetu.example/api/payment/pull/cb"


def _row(receipt: str, amount: int = 3000) -> PullTransaction:
    """One Pull row; the same receipt and amount give an identical row, as
    Daraja repeats it on overlapping pages."""
    return PullTransaction(
        transaction_id=receipt,
        trx_date=(timezone.now() - timedelta(hours=1))
        .replace(minute=0, second=0, microsecond=0)
        .astimezone(NAIROBI),
        msisdn="254722000108",
        transaction_type="c2b-pay-bill-debit",
        bill_reference="HY-B00042",
        amount=amount,
        amount_text=f"{amount}.00",
        organization_name="Haki Yetu",
        raw={"transactionId": receipt},
    )


class PagingClient:
    """Answers ``pages`` in turn (then empty pages); records each call."""

    def __init__(self, pages: list[list[str]]) -> None:
        self.pages = pages
        self.calls: list[dict] = []

    def pull_transactions(self, **kwargs) -> PullPage:
        self.calls.append(kwargs)
        receipts = self.pages.pop(0) if self.pages else []
        return PullPage(
            rows=tuple(
                _row(*receipt) if isinstance(receipt, tuple) else _row(receipt)
                for receipt in receipts
            ),
            unreadable=(),
            offset=kwargs["offset"],
            response_code="1000" if receipts else "1001",
            response_message="",
            raw={},
        )


@pytest.fixture
def pull_settings(daraja_settings):
    daraja_settings.MPESA_C2B_SHORT_CODE = "600984"
    daraja_settings.MPESA_PULL_NOMINATED_NUMBER = NOMINATED
    daraja_settings.MPESA_PULL_CALLBACK_URL = PULL_CALLBACK
    return daraja_settings


def _fake(monkeypatch, pages: list[list[str]]) -> PagingClient:
    client = PagingClient(pages)
    monkeypatch.setattr("payments.services.daraja_client.daraja", lambda: client)
    return client


def _window() -> dict:
    now = timezone.now()
    return {"start": now - timedelta(hours=2), "end": now}


def test_pull_fetch_pages_through_the_offset_until_an_empty_page(
    pull_settings, monkeypatch
):
    # given
    client = _fake(monkeypatch, [["A1", "A2"], ["A3", "A4"]])

    # when
    rows = pull_fetch(**_window())

    # then
    assert [row.transaction_id for row in rows] == ["A1", "A2", "A3", "A4"]
    assert [call["offset"] for call in client.calls] == [0, 2, 4]
    assert client.calls[0]["short_code"] == "600984"


def test_pull_fetch_stops_at_a_short_page(pull_settings, monkeypatch):
    client = _fake(monkeypatch, [["A1", "A2"], ["A3"], ["never"]])
    rows = pull_fetch(**_window())
    assert len(rows) == 3
    assert len(client.calls) == 2


def test_pull_fetch_stops_when_the_offset_is_ignored(pull_settings, monkeypatch):
    client = _fake(monkeypatch, [["A1", "A2"]] * 5)
    rows = pull_fetch(**_window())
    assert [row.transaction_id for row in rows] == ["A1", "A2"]
    assert len(client.calls) == 2


def test_pull_fetch_stops_after_the_most_pages(pull_settings, monkeypatch):
    # given
    monkeypatch.setattr(pull, "MAX_PULL_PAGES", 3)
    client = _fake(monkeypatch, [[f"P{n}"] for n in range(10)])

    # when
    rows = pull_fetch(**_window())

    # then
    assert len(client.calls) == 3
    assert len(rows) == 3


def test_pull_fetch_counts_a_receipt_on_two_pages_once(pull_settings, monkeypatch):
    _fake(monkeypatch, [["A1", "A2"], ["A2", "A3"]])
    rows = pull_fetch(**_window())
    assert [row.transaction_id for row in rows] == ["A1", "A2", "A3"]


def test_pull_fetch_keeps_both_rows_of_a_receipt_reported_with_two_amounts(
    pull_settings, monkeypatch
):
    # given: page 2 repeats A2 with another amount
    _fake(monkeypatch, [["A1", "A2"], [("A2", 300), "A3"]])
    # when
    rows = pull_fetch(**_window())
    # then: both A2 rows come back, for the import to refuse (not pick one)
    assert [(row.transaction_id, row.amount) for row in rows] == [
        ("A1", 3000),
        ("A2", 3000),
        ("A2", 300),
        ("A3", 3000),
    ]


def test_pull_fetch_asks_only_for_the_last_48_hours(pull_settings, monkeypatch):
    # given
    client = _fake(monkeypatch, [])
    now = timezone.now()

    # when
    pull_fetch(start=now - timedelta(days=5), end=now)

    # then
    asked = client.calls[0]["start"]
    assert now - timedelta(hours=48, seconds=5) < asked <= now - timedelta(hours=47)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(OAUTH_URL, json=load("oauth_success"))
        yield mock


def _register(*args: str) -> str:
    out = io.StringIO()
    call_command("mpesa_pull_register", *args, stdout=out)
    return out.getvalue()


def test_pull_register_command_posts_and_prints_the_answer(pull_settings, rsps):
    # given
    pull_settings.MPESA_BASE_URL = ""
    answer = load("pull_register_success")
    rsps.post(f"{SANDBOX}/pulltransactions/v1/register", json=answer)

    # when
    out = _register()

    # then
    assert json.loads(rsps.calls[-1].request.body)["NominatedNumber"] == NOMINATED
    assert "600984 registered for Pull Transactions" in out
    assert json.loads(out.splitlines()[-1]) == answer
    assert "token" not in out.lower()
    event = PaymentEvent.objects.get(operation="pull_register")
    assert event.response_body == answer


def test_pull_register_command_names_missing_settings(pull_settings, rsps):
    pull_settings.MPESA_PULL_NOMINATED_NUMBER = ""
    pull_settings.MPESA_PULL_CALLBACK_URL = ""
    with pytest.raises(CommandError) as caught:
        _register()
    assert "MPESA_PULL_NOMINATED_NUMBER, MPESA_PULL_CALLBACK_URL" in str(caught.value)
    assert len(rsps.calls) == 0


def test_pull_register_command_reports_a_refusal(pull_settings, rsps):
    # given
    pull_settings.MPESA_BASE_URL = ""
    refusal = {
        "requestId": "1-2-3",
        "errorCode": "400.002.02",
        "errorMessage": "Bad Request - Invalid ShortCode",
    }
    rsps.post(f"{SANDBOX}/pulltransactions/v1/register", status=400, json=refusal)

    # when / then
    with pytest.raises(CommandError) as caught:
        _register()
    assert "Daraja refused: 400.002.02" in str(caught.value)


@pytest.fixture
def simulator(settings) -> Iterator[SimulatorServer]:
    server = start_simulator()
    use_simulator(settings, server)
    settings.MPESA_C2B_SHORT_CODE = SHORT_CODE
    settings.MPESA_PULL_NOMINATED_NUMBER = NOMINATED
    settings.MPESA_PULL_CALLBACK_URL = PULL_CALLBACK
    yield server
    server.stop()


def _paid_with_lost_callback(server: SimulatorServer) -> str:
    """An STK payment whose callback the simulator lost; its receipt."""
    receiver = CallbackReceiver()
    try:
        caller = DarajaCaller(server.base_url, receiver.url)
        caller.control("POST", "faults", {"fault": "lost_callback"})
        checkout = caller.push(Amount=2500).json()["CheckoutRequestID"]

        def receipt() -> str | None:
            for entry in caller.control("GET", "ledger")["payments"]:
                if entry["CheckoutRequestID"] == checkout:
                    return entry["receipt"]
            return None

        return wait_until(receipt)
    finally:
        receiver.stop()


def test_pull_against_the_simulator_finds_a_payment_whose_callback_was_lost(
    simulator,
):
    # given
    receipt = _paid_with_lost_callback(simulator)
    _register()

    # when
    rows = pull_fetch(**_window())

    # then
    [row] = rows
    assert row.transaction_id == receipt
    assert row.amount == 2500
    assert row.bill_reference == "HY-B00042"
    assert row.trx_date.tzinfo is not None
    stored = PaymentEvent.objects.filter(operation="pull_query")
    assert stored.count() == 2  # the page with the row, then the empty one
    assert stored.first().response_body["ResponseCode"] in ("1000", "1001")


def test_pull_register_against_the_simulator_twice_says_already(simulator):
    _register()
    out = _register()
    assert "already registered" in out
    listing = requests.get(f"{simulator.base_url}/simulator/pull", timeout=5).json()
    assert len(listing["registrations"]) == 1
