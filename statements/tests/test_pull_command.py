"""``manage.py mpesa_pull_transactions``, its beat entry and task, and the
pull against the simulator (issue 15, point 8). Daraja is a fake client at
the seam, ``responses`` at HTTP, or the in-process simulator."""

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from django.core.management import CommandError, call_command

from bookings.tests.factories import BookingFactory, UserFactory
from daraja_simulator import SimulatorServer
from daraja_simulator.tests.fixtures import (
    SHORT_CODE,
    CallbackReceiver,
    DarajaCaller,
    start_simulator,
    use_simulator,
    wait_until,
)
from payments.daraja.exceptions import DarajaUnavailable
from payments.models import Payment, PaymentEvent
from payments.tests.conftest import daraja_settings  # noqa: F401 (fixture)
from payments.tests.daraja.support import OAUTH_URL, load
from payments.tests.factories import PaymentFactory
from statements.management.import_output import SHOWN
from statements.models import StatementImport, StatementLine
from statements.schedule import PULL_ENTRY, PULL_TASK, pull_beat_entries
from statements.tasks import pull_transactions_task
from statements.tests.pull_support import PULL_SHORT_CODE, PullClient, pulled

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
SANDBOX = "https://sandbox.safaricom.co.ke"


@pytest.fixture
def daraja_pull(settings, monkeypatch):
    settings.MPESA_C2B_SHORT_CODE = PULL_SHORT_CODE

    def install(*rows, error=None) -> PullClient:
        client = PullClient(list(rows), error)
        monkeypatch.setattr("payments.services.daraja_client.daraja", lambda: client)
        return client

    return install


def _pull(*args: str) -> str:
    out = io.StringIO()
    call_command("mpesa_pull_transactions", *args, stdout=out)
    return out.getvalue()


def test_command_json_prints_one_object_with_the_statement_keys(daraja_pull):
    # given
    booking = BookingFactory(amount=3000)
    daraja_pull(pulled("TLK3CMD001", account=booking.reference))
    # when
    summary = json.loads(_pull("--json", "--hours", "3"))
    # then
    assert set(SHOWN) <= set(summary)
    assert summary["allocated"] == 1
    assert summary["difference"] == 0
    assert StatementImport.objects.get(pk=summary["import_id"]).source == "pull"


def test_command_prints_each_summary_key_as_a_line(daraja_pull):
    daraja_pull(pulled("TLK3CMD002", account="HYZZZZZ9"))
    out = _pull()
    assert "unallocated: 1" in out.splitlines()
    assert [line.split(":")[0] for line in out.splitlines()] == [
        key.replace("_", " ") for key in SHOWN
    ]


def test_command_imports_as_the_user_named(daraja_pull):
    user = UserFactory(username="finance-ann")
    daraja_pull()
    summary = json.loads(_pull("--json", "--user", "finance-ann"))
    assert StatementImport.objects.get(pk=summary["import_id"]).imported_by == user


def test_command_without_a_c2b_short_code_says_nothing_was_sent(daraja_pull, settings):
    # given
    client = daraja_pull()
    settings.MPESA_C2B_SHORT_CODE = ""
    # when / then
    with pytest.raises(CommandError, match="nothing sent: Set MPESA_C2B_SHORT_CODE"):
        _pull()
    assert client.calls == []


def test_command_without_daraja_credentials_is_a_clear_error(settings):
    settings.MPESA_C2B_SHORT_CODE = PULL_SHORT_CODE
    settings.MPESA_CONSUMER_KEY = ""
    with pytest.raises(CommandError, match="nothing sent: .*MPESA_CONSUMER_KEY"):
        _pull()
    assert not StatementImport.objects.exists()


def test_command_refuses_hours_daraja_does_not_keep(daraja_pull):
    daraja_pull()
    with pytest.raises(CommandError, match="from 1 to 47"):
        _pull("--hours", "72")


def test_command_when_daraja_is_unreachable_imports_nothing(daraja_pull):
    daraja_pull(error=DarajaUnavailable("Daraja answered 503"))
    with pytest.raises(CommandError, match="Daraja could not be reached"):
        _pull()
    assert not StatementImport.objects.exists()


def test_command_when_daraja_refuses_a_later_page_imports_nothing(
    daraja_settings,  # noqa: F811 (the fixture)
):
    # given: the first page comes, the second is refused
    daraja_settings.MPESA_BASE_URL = ""
    daraja_settings.MPESA_C2B_SHORT_CODE = PULL_SHORT_CODE
    refusal = {"errorCode": "400.002.02", "errorMessage": "Bad Request"}
    with responses.RequestsMock() as rsps:
        rsps.get(OAUTH_URL, json=load("oauth_success"))
        query = f"{SANDBOX}/pulltransactions/v1/query"
        rsps.post(query, json=load("pull_query_rows"))
        rsps.post(query, status=400, json=refusal)
        # when / then
        with pytest.raises(CommandError, match="Daraja refused: 400.002.02"):
            _pull()
    assert not StatementImport.objects.exists()
    assert not StatementLine.objects.exists()
    assert PaymentEvent.objects.filter(operation="pull_query").count() == 2


def test_beat_entry_runs_the_task_every_interval_when_enabled():
    # when
    entries = pull_beat_entries(enabled=True, interval_minutes=60)
    # then
    assert entries == {
        PULL_ENTRY: {"task": PULL_TASK, "schedule": 3600.0, "kwargs": {"hours": 2}}
    }


def test_beat_entry_window_spans_two_intervals():
    entries = pull_beat_entries(enabled=True, interval_minutes=180)
    assert entries[PULL_ENTRY]["kwargs"] == {"hours": 6}


def test_no_beat_entry_when_pull_is_disabled():
    assert pull_beat_entries(enabled=False, interval_minutes=60) == {}


def _beat_schedule(**env: str) -> dict:
    """``CELERY_BEAT_SCHEDULE`` as a fresh process reads it from settings."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.CELERY_BEAT_SCHEDULE, default=str))"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and settings
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=os.environ | {"DJANGO_SETTINGS_MODULE": "hakiyetu.settings"} | env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize(("enabled", "present"), [("1", True), ("0", False)])
def test_settings_schedule_the_pull_only_when_enabled(enabled, present):
    # when
    schedule = _beat_schedule(
        MPESA_PULL_ENABLED=enabled, MPESA_PULL_INTERVAL_MINUTES="30"
    )
    # then
    assert (PULL_ENTRY in schedule) is present
    if present:
        assert schedule[PULL_ENTRY]["schedule"] == 1800.0
        assert schedule[PULL_ENTRY]["task"] == PULL_TASK


def test_task_imports_the_pull_and_reports_it(daraja_pull):
    # given
    daraja_pull(pulled("TLK3TASK01", account="HYZZZZZ9"))
    # when
    done = pull_transactions_task(hours=2)
    # then
    record = StatementImport.objects.get()
    assert done["import_id"] == record.pk
    assert (done["lines"], done["unallocated"], done["difference"]) == (1, 1, 0)


@pytest.fixture
def simulator(settings) -> Iterator[SimulatorServer]:
    server = start_simulator()
    use_simulator(settings, server)
    settings.MPESA_C2B_SHORT_CODE = SHORT_CODE
    settings.MPESA_PULL_NOMINATED_NUMBER = "254722000108"
    settings.MPESA_PULL_CALLBACK_URL = "https://hakiyetu.example/api/pull/cb"
    yield server
    server.stop()


def _paid_losing_the_callback(server: SimulatorServer, reference: str) -> str:
    """An STK payment for ``reference`` whose callback the simulator lost."""
    receiver = CallbackReceiver()
    try:
        caller = DarajaCaller(server.base_url, receiver.url)
        caller.control("POST", "faults", {"fault": "lost_callback"})
        checkout = caller.push(Amount=3000, AccountReference=reference).json()[
            "CheckoutRequestID"
        ]

        def receipt() -> str | None:
            for entry in caller.control("GET", "ledger")["payments"]:
                if entry["CheckoutRequestID"] == checkout:
                    return entry["receipt"]
            return None

        return wait_until(receipt)
    finally:
        receiver.stop()


def test_pull_through_the_simulator_recovers_a_lost_callback(simulator):
    # given: our payment of the booking never heard its callback
    payment = PaymentFactory(booking=BookingFactory(amount=3000))
    receipt = _paid_losing_the_callback(simulator, payment.booking.reference)
    call_command("mpesa_pull_register", stdout=io.StringIO())
    # when
    summary = json.loads(_pull("--json"))
    # then
    payment.refresh_from_db()
    assert (payment.status, payment.mpesa_receipt_number) == (
        Payment.Status.COMPLETED,
        receipt,
    )
    assert (summary["recovered"], summary["difference"]) == (1, 0)
    assert summary["missing_from_statement"] == 0


def test_command_refuses_a_pull_naming_one_receipt_with_two_amounts(daraja_pull):
    # given: Daraja's pull lists one receipt twice, with different amounts
    booking = BookingFactory(amount=3000)
    daraja_pull(
        pulled("TLK3DUP001", "3000.00", account=booking.reference),
        pulled("TLK3DUP001", "300.00", account=booking.reference),
    )
    # when / then: a clear error, nothing imported, the booking not paid
    with pytest.raises(CommandError, match="TLK3DUP001"):
        _pull()
    assert not StatementImport.objects.exists()
    booking.refresh_from_db()
    assert booking.payment_status != "paid"
