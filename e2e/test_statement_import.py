"""The org portal statement closes the books (issue 15, point 11), through
the real processes.

``STATEMENT_E2E_BOOKINGS`` bookings (200) are paid through the simulator
while it loses 15% of the STK callbacks; 5% are paid by Paybill; a few paid
ones are cancelled and refunded (Reversal, approved by Finance); STK
queries are switched off, so the lost callbacks stay open. Then the
simulator's statement (CSV) is imported with ``manage.py import_statement``:

- every booking the simulator took money for is confirmed and paid with its
  receipt (or, cancelled, refunded), each lost callback recovered;
- ``difference``, ``unallocated``, ``unexplained_withdrawal``,
  ``amount_mismatch`` and ``missing_from_statement`` are 0;
- the same file again changes nothing; the XLSX export of an overlapping
  period merges without change;
- ``manage.py mpesa_pull_transactions`` afterwards agrees: every row it
  pulls is matched, the same money, no difference.

Runs on SQLite and PostgreSQL (the stack's ``DATABASE_URL``)::

    .venv/bin/pytest e2e/test_statement_import.py -s
"""

import os
from collections.abc import Iterator
from datetime import datetime

import pytest

from e2e.soak import NAIROBI
from e2e.soak_db import read_snapshot
from e2e.stack import Stack, start_stack
from e2e.statement_e2e import (
    StatementRun,
    StatementRunConfig,
    download_statement,
    manage_json,
    paid_in_simulator,
    queries_sent,
    run_bookings,
)

pytestmark = pytest.mark.e2e

CONFIG = StatementRunConfig.from_env()
# Redis database of these processes: not the other stacks' (5, 12-15).
STATEMENT_REDIS_DB = os.environ.get("E2E_STATEMENT_REDIS_DB", "11")
ZERO = ("difference", "unallocated", "unexplained_withdrawal", "amount_mismatch")


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    stack = start_stack(
        tmp_path_factory.mktemp("statement-stack"),
        overrides=CONFIG.process_env(),
        redis_db=STATEMENT_REDIS_DB,
    )
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def run(stack) -> StatementRun:
    return run_bookings(stack, CONFIG)


@pytest.fixture(scope="module")
def csv_import(stack, run) -> dict:
    """The statement of the whole run, imported; the state before it."""
    before = read_snapshot(stack)
    path = download_statement(stack, start=run.started, end=run.settled, kind="csv")
    summary = manage_json(stack, "import_statement", str(path), log="import-csv")
    return {"path": path, "summary": summary, "before": before}


def _ledger(snapshot: dict) -> dict[str, dict]:
    return {r["receipt_number"]: r for r in snapshot["receipts"]}


def test_queries_were_off_and_callbacks_lost(stack, run, csv_import):
    # then: the statement, not an STK query, is what found the money
    assert queries_sent(stack) == 0
    lost = [
        entry
        for entry in paid_in_simulator(stack).values()
        if "lost_callback" in entry.get("faults", [])
    ]
    assert lost
    unknown_before = set(_ledger(csv_import["before"]))
    assert not {entry["receipt"] for entry in lost} & unknown_before
    assert csv_import["summary"]["recovered"] == len(lost)


def test_every_booking_paid_is_confirmed_with_its_receipt(stack, run, csv_import):
    # given
    snapshot = read_snapshot(stack)
    ledger = _ledger(snapshot)
    bookings = {b["id"]: b for b in snapshot["bookings"]}
    refunded = {r["booking_reference"] for r in run.refunds}
    taken = paid_in_simulator(stack)
    # then
    wrong = []
    for receipt, entry in taken.items():
        held = ledger.get(receipt)
        booking = bookings.get(held["booking_id"]) if held else None
        if booking is None:
            wrong.append((receipt, "no booking"))
        elif booking["reference"] in refunded:
            if booking["payment_status"] != "refunded":
                wrong.append((receipt, booking["payment_status"]))
        elif (booking["status"], booking["payment_status"]) != ("confirmed", "paid"):
            wrong.append((receipt, booking["status"], booking["payment_status"]))
        elif (
            held["allocation"] != "allocated" or held["amount"] != entry["paid_amount"]
        ):
            wrong.append((receipt, held["allocation"], held["amount"]))
    assert wrong == []
    assert len(taken) >= CONFIG.bookings * 0.9  # 1 in 20 cancels its push
    assert run.refunds


def test_the_statement_adds_up(run, csv_import):
    summary = csv_import["summary"]
    assert {key: summary[key] for key in ZERO} == dict.fromkeys(ZERO, 0)
    assert summary["missing_from_statement"] == 0
    assert summary["refund"] == len(run.refunds)
    assert summary["paid_in_total"] == summary["ledger_in_total"]


def test_the_same_file_again_changes_nothing(stack, csv_import):
    # given
    before = read_snapshot(stack)
    # when
    again = manage_json(
        stack, "import_statement", str(csv_import["path"]), log="import-csv-again"
    )
    # then
    assert again["already_imported"] is True
    assert again["import_id"] == csv_import["summary"]["import_id"]
    assert read_snapshot(stack) == before


def test_an_overlapping_xlsx_statement_merges_without_change(stack, run, csv_import):
    # given: from the middle of the run until now
    before = read_snapshot(stack)
    later = datetime.now(NAIROBI)
    path = download_statement(stack, start=run.middle, end=later, kind="xlsx")
    # when
    summary = manage_json(stack, "import_statement", str(path), log="import-xlsx")
    # then
    assert "already_imported" not in summary
    assert summary["lines"] > 0
    assert (summary["new_lines"], summary["merged"]) == (0, summary["lines"])
    assert {key: summary[key] for key in ZERO} == dict.fromkeys(ZERO, 0)
    assert summary["missing_from_statement"] == 0
    assert read_snapshot(stack) == before


def test_a_pull_through_the_stack_agrees(stack, run, csv_import):
    # given
    stack.manage("mpesa_pull_register", log="pull-register")
    before = _ledger(read_snapshot(stack))
    # when
    summary = manage_json(
        stack, "mpesa_pull_transactions", "--hours", "2", log="pull-transactions"
    )
    # then
    statement = csv_import["summary"]
    assert summary["lines"] == len(paid_in_simulator(stack))
    assert summary["matched"] == summary["lines"]
    assert summary["paid_in_total"] == statement["paid_in_total"]
    assert {key: summary[key] for key in ZERO} == dict.fromkeys(ZERO, 0)
    assert (summary["missing_from_statement"], summary["recovered"]) == (0, 0)
    assert _ledger(read_snapshot(stack)) == before
