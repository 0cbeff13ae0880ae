"""The statement import end to end (issue 15, point 11), its driver.

Reuses the soak's drivers (``soak_drive``, ``soak_paybill``,
``soak_refunds``, ``soak_db``) on a stack of its own whose STK queries are
switched off: no follow-up query, no beat sweep, no ``query_pending``. So a
payment whose callback the simulator lost stays open until M-Pesa's own
record, the org portal statement, is imported. (Only the refunds sweep is
run, by hand, when a refund's result came before its acceptance committed.)
``test_statement_import.py`` states what must hold.
"""

import contextlib
import json
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import requests

from e2e.soak import NAIROBI, SoakConfig, all_callbacks_sent, wait_until
from e2e.soak_db import FINANCE_USER, seed_soak_data
from e2e.soak_drive import Plan, Run, drive, find_slots, login
from e2e.soak_paybill import EXACT, TYPED, register_c2b_urls
from e2e.soak_refunds import EARLY, Approver
from e2e.stack import Stack

QUERY_PATH = "/mpesa/stkpushquery/v1/query"
SIMULATOR_TIME = "%Y-%m-%d %H:%M:%S"
# Seconds of silence on each side of a period's edge, so no payment, charge
# or refund straddles it (the portal's times are whole seconds).
QUIET = 1.5
REFUND_SWEEPS = 3
REFUND_SWEEP = (
    "from payments.services.refund_sweep import refunds_reconcile; refunds_reconcile()"
)


@dataclass(frozen=True, slots=True)
class StatementRunConfig:
    """Sizes of the run; ``from_env`` reads ``STATEMENT_E2E_BOOKINGS``."""

    bookings: int = 200
    lost_share: float = 0.15
    paybill_share: float = 0.05
    cancels: int = 6
    seed: int = 15
    concurrency: int = 8

    @classmethod
    def from_env(cls) -> "StatementRunConfig":
        return cls(bookings=int(os.environ.get("STATEMENT_E2E_BOOKINGS", "200")))

    def process_env(self) -> dict[str, str]:
        """Queries off (beyond the run), refunds quick, Pull configured."""
        return {
            "MPESA_QUERY_AFTER_SECONDS": "3600",
            "MPESA_FOLLOW_UP_QUERY_SECONDS": "3600",
            "MPESA_RECONCILE_INTERVAL_SECONDS": "3600",
            "STK_PUSH_RATE_PER_USER": "100000/min",
            "AUTH_TOKEN_RATE": "1000/min",  # noqa: S105 - a rate
            "REFUND_AUTOMATIC_INTERVAL_SECONDS": "1",
            "REFUND_FULL_IF_CANCELLED_HOURS_BEFORE": "1",
            "MPESA_PULL_NOMINATED_NUMBER": "254722000108",
            "MPESA_PULL_CALLBACK_URL": "https://hakiyetu.example/api/pull/cb",
        }

    def paybill(self) -> dict[int, str]:
        """Every twentieth booking (5%) paid by Paybill, as owed."""
        step = max(1, round(1 / self.paybill_share))
        chosen = range(step // 2, self.bookings, step)
        return {i: (EXACT, TYPED)[n % 2] for n, i in enumerate(chosen)}

    def cancel(self, paybill: dict[int, str]) -> dict[int, str]:
        """A few STK bookings of the second half, cancelled once paid."""
        half = self.bookings // 2
        picks = [
            i
            for i in range(half + 1, self.bookings, 7)
            if i not in paybill and i % 20 != 19  # 2547 11...: cancels its push
        ]
        return dict.fromkeys(picks[: self.cancels], EARLY)


@dataclass
class StatementRun:
    """What the run did: the bookings, and the edges of its periods."""

    runs: list[Run]
    started: datetime
    middle: datetime
    settled: datetime
    refunds: list[dict]


def run_bookings(stack: Stack, config: StatementRunConfig) -> StatementRun:
    """Book and pay every booking under lost callbacks; cancel a few paid
    ones and let Finance approve their refunds; wait until all is quiet."""
    password = seed_soak_data(
        stack, SoakConfig(bookings=config.bookings, seed=config.seed)
    )
    base = stack.web_url
    clients = max(4, min(20, config.bookings // 15))
    sessions = [login(base, f"soak-client-{n}", password) for n in range(clients)]
    slots = find_slots(sessions[0], base, config.bookings)
    register_c2b_urls(stack, "v2")
    stack.simulator(
        "POST",
        "faults",
        {
            "seed": config.seed,
            "rules": [{"fault": "lost_callback", "probability": config.lost_share}],
        },
    )
    approver = Approver(base, login(base, FINANCE_USER, password))
    paybill = config.paybill()
    middle: list[datetime] = []
    plan = Plan(
        simulator_url=stack.simulator_url,
        paybill=paybill,
        cancel=config.cancel(paybill),
        milestones={config.bookings // 2: [lambda: middle.append(_quiet(stack))]},
    )
    started = _quiet(stack)
    approver.start()
    try:
        runs = drive([base], sessions, slots, config.concurrency, plan)
        cancelled = [run for run in runs if run.cancelled == "cancelled"]
        refunds = _refunds_completed(stack, approver, len(cancelled))
    finally:
        approver.stop()
    return StatementRun(runs, started, middle[0], _quiet(stack), refunds)


def _quiet(stack: Stack) -> datetime:
    """Wait until every prompt is decided and every callback sent; then a
    moment with nothing on either side of it."""
    wait_until(lambda: all_callbacks_sent(stack), timeout=90, what="callbacks sent")
    time.sleep(QUIET)
    moment = datetime.now(NAIROBI).replace(microsecond=0)
    time.sleep(QUIET)
    return moment


def _refunds_completed(stack: Stack, approver: Approver, count: int) -> list[dict]:
    """The refunds, once ``count`` of them are completed. A result that
    came before its refund's acceptance committed waits for the refunds
    sweep, which beat runs in production (here beat's sweeps are off with
    the STK queries): run it, up to three times."""
    found: list[dict] = []

    def done() -> bool:
        found[:] = approver.refunds()
        return len(found) >= count and all(
            refund["status"] == "completed" for refund in found
        )

    for sweep in range(REFUND_SWEEPS + 1):
        with contextlib.suppress(AssertionError):
            wait_until(done, timeout=30, what=f"{count} refunds completed")
            return found
        if sweep < REFUND_SWEEPS:
            stack.manage("shell", "-c", REFUND_SWEEP, log=f"refund-sweep-{sweep}")
    states = [(r["id"], r["status"], r["booking_reference"]) for r in found]
    raise AssertionError(f"not {count} refunds completed: {states}")


def download_statement(
    stack: Stack, *, start: datetime, end: datetime, kind: str
) -> Path:
    """``GET /simulator/statement`` as the portal's export, saved."""
    answer = requests.get(
        f"{stack.simulator_url}/simulator/statement",
        params={
            "from": start.strftime(SIMULATOR_TIME),
            "to": end.strftime(SIMULATOR_TIME),
            "format": kind,
        },
        timeout=60,
    )
    answer.raise_for_status()
    path = stack.var_dir / f"statement-{start:%H%M%S}-{end:%H%M%S}.{kind}"
    path.write_bytes(answer.content)
    return path


def manage_json(stack: Stack, *argv: str, log: str) -> dict:
    """A ``manage.py`` command's ``--json`` summary."""
    output = stack.log_dir / f"{log}.json"
    stack.manage(*argv, "--json", log=log, output=output)
    return json.loads(output.read_text().strip().splitlines()[-1])


def queries_sent(stack: Stack) -> int:
    """STK queries the simulator received."""
    return len(stack.simulator("GET", f"requests?path={QUERY_PATH}")["requests"])


def paid_in_simulator(stack: Stack) -> dict[str, dict]:
    """Receipt -> the simulator's record, for every payment it took."""
    payments = stack.simulator("GET", "ledger")["payments"]
    return {
        entry["receipt"]: entry
        for entry in payments
        if entry["receipt"]
        and (
            (entry["channel"] == "stk" and str(entry["result_code"]) == "0")
            or (entry["channel"] == "paybill" and entry["status"] == "completed")
        )
    }
