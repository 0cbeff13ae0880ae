"""Fault-injection soak (issue 8, item 6; issue 13): nothing lost, nothing
twice, every shilling explained.

Books ``SOAK_BOOKINGS`` slots (60 by default, 2,000 at full size) across
several clients, advocates and days. Most are paid through the real API
while the simulator duplicates 10% of callbacks, loses 10%, sends 5% after
the STK lifetime, answers 5% of pushes and queries with 500/503/429 and
holds 2% of pushes past our read time-out. ``SOAK_PAYBILL_SHARE`` of them
(15%) are paid by Paybill instead: ``/simulator/c2b/pay`` with the booking's
reference as the account number (some typed in lower case with spaces and
dashes), a few underpaid or overpaid by KES 50, a few to an account number
that is no booking's. Our C2B URLs are registered at the start
(``SOAK_C2B_VERSION``: v2, v1 or alternate), and for the last
``SOAK_DOUBLE_NOTIFICATION`` of the run (half) every STK success also
reaches our confirmation URL with the same receipt. Then ``query_pending``
runs and the test checks the app's rows against the simulator's ledger:

- Nothing open: no payment initiated or pending (database and staff API).
- Payments: every push the simulator paid is a completed payment (or, its
  outcome unknown to us, one in review; or closed "paid by Paybill" when
  its own receipt, reported as a C2B confirmation, paid its booking first
  and nothing told the payment otherwise: its callback lost, or its push's
  answer later than the confirmation); every completed payment was paid,
  for its amount, once (one ``completed`` event), with the simulator's
  receipt when it has one; no receipt on two payments; every success
  callback's receipt is on its payment.
- Bookings: a confirmed booking has its money (a completed payment or a
  receipt allocated to it); a completed payment's booking is confirmed and
  paid; no booking is paid twice (two completed payments, or a payment and
  a receipt that is not that payment's); a booking paid by Paybill with the
  right amount and reference is confirmed and paid exactly once, by that
  receipt; an underpaid, overpaid or unknown-account payment stays
  ``unallocated`` with that reason and pays nothing.
- Ledger: no receipt number is in the ledger twice and no report is sighted
  twice; every receipt that reached us by an STK callback or a C2B
  confirmation we answered 200 (the simulator's record of what it sent) is
  in the ledger; no payment in review holds the receipt that paid its own
  booking (one receipt reported by STK and C2B is one payment, never a
  payment and a refund).
- Raw events: every callback and every confirmation the simulator
  delivered is a stored ``PaymentEvent``, and each was answered 200.
- Money, to the shilling::

      successful_amount + paybill_successful_amount      (the simulator took)
        = Σ MpesaReceipt.amount, direction "in"          (the ledger)
        + Σ amount of completed payments with no receipt in the ledger
                                                         (receipt pending)
        + Σ amount of needs_review payments with no receipt in the ledger
          whose push the simulator paid and whose receipt is neither in
          the ledger nor on a receipt-pending payment     (held in review)

  "No receipt in the ledger" means no ``MpesaReceipt`` with the payment's
  id or its ``mpesa_receipt_number``, so a review payment whose receipt is
  in the ledger (a booking already paid, a receipt on another payment) is
  counted once, there. A review payment is matched to the simulator by
  CheckoutRequestID, or by phone when its push's outcome is unknown (one
  phone per booking). Each term is listed in the report, and each of the
  simulator's receipts must be claimed by exactly one of them: none is
  "money unexplained", two are "money counted twice", and a ledger row or
  pending payment the simulator never took is listed too.

Full size (see docs/soak.md)::

    SOAK_BOOKINGS=2000 .venv/bin/pytest e2e/test_soak.py -m soak -s
"""

import os
import time
from collections.abc import Iterator

import pytest

from e2e.soak import (
    SoakConfig,
    Stopwatch,
    all_callbacks_sent,
    only_late_callbacks_left,
    wait_until,
)
from e2e.soak_checks import OPEN, RECEIPT_NOT_ON_PAYMENT, open_payments, tally
from e2e.soak_db import (
    FINANCE_USER,
    read_snapshot,
    run_query_pending,
    seed_soak_data,
)
from e2e.soak_drive import Plan, drive, find_slots, login
from e2e.soak_ledger import COUNTED_TWICE, MONEY, NEVER_TAKEN, UNEXPLAINED
from e2e.soak_money_out import MONEY_OUT, OPEN_REFUNDS
from e2e.soak_paybill import (
    c2b_milestones,
    first_c2b_version,
    paybill_plan,
    register_c2b_urls,
)
from e2e.soak_refunds import Approver, cancel_plan, never_paid, settle_refunds
from e2e.soak_report import report
from e2e.stack import Stack, start_stack

pytestmark = [pytest.mark.e2e, pytest.mark.soak]

CONFIG = SoakConfig.from_env()
# Redis database of the soak's processes: not the e2e stack's (13), which
# may be alive in the same session.
SOAK_REDIS_DB = os.environ.get("E2E_SOAK_REDIS_DB", "14")
DEMO_STAFF = ("demo-staff", "hakiyetu-demo")
PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
QUERY_PATH = "/mpesa/stkpushquery/v1/query"
REVERSAL_PATH = "/mpesa/reversal/v1/request"
POLICY = "REFUND_FULL_IF_CANCELLED_HOURS_BEFORE"


@pytest.fixture(scope="module")
def soak_stack(tmp_path_factory) -> Iterator[Stack]:
    """Its own processes: short STK lifetime and read time-out (see soak.py)."""
    stack = start_stack(
        tmp_path_factory.mktemp("soak-stack"),
        overrides=CONFIG.process_env(),
        redis_db=SOAK_REDIS_DB,
    )
    try:
        yield stack
    finally:
        stack.stop()


def test_soak_under_faults_loses_nothing_and_settles_everything(soak_stack):
    # given
    clock, base = Stopwatch(), soak_stack.web_url
    password = seed_soak_data(soak_stack, CONFIG)
    names = [f"soak-client-{n}" for n in range(CONFIG.clients)]
    sessions = [login(base, name, password) for name in names]
    slots = find_slots(sessions[0], base, CONFIG.bookings)
    soak_stack.simulator("POST", "config", _simulator_config())
    register_c2b_urls(soak_stack, first_c2b_version(CONFIG.c2b_version))
    soak_stack.simulator("POST", "faults", CONFIG.fault_rules())
    hours = int(soak_stack.env[POLICY])
    paybill = paybill_plan(CONFIG.bookings, CONFIG.paybill_share, CONFIG.seed)
    approver = Approver(base, login(base, FINANCE_USER, password))
    plan = Plan(
        simulator_url=soak_stack.simulator_url,
        paybill=paybill,
        cancel=cancel_plan(
            slots,
            excluded=never_paid(paybill, CONFIG.bookings),
            share=CONFIG.cancel_share,
            seed=CONFIG.seed,
            hours=hours,
        ),
        milestones=c2b_milestones(
            soak_stack,
            count=CONFIG.bookings,
            double_share=CONFIG.double_notification,
            version=CONFIG.c2b_version,
        ),
    )
    clock.lap("setup")

    # when
    approver.start()
    runs = drive(base, sessions, slots, CONFIG.concurrency, plan)
    every_push_past_lifetime = time.monotonic() + CONFIG.stk_lifetime + 1
    clock.lap("book and pay")
    _wait(lambda: only_late_callbacks_left(soak_stack), "callbacks due")
    time.sleep(max(0.0, every_push_past_lifetime - time.monotonic()))
    clock.lap("callbacks due")
    rounds = [run_query_pending(soak_stack, 1)]
    clock.lap("query_pending")
    _wait(lambda: all_callbacks_sent(soak_stack), "late callbacks")
    clock.lap("late callbacks")
    refund_rounds = settle_refunds(
        soak_stack, approver, runs, result_wait=CONFIG.result_wait
    )
    approver.stop()
    clock.lap("refunds")
    snapshot = read_snapshot(soak_stack)
    while open_payments(snapshot) and len(rounds) < 3:
        time.sleep(CONFIG.query_claim_seconds + 1)  # a run skips payments queried since
        rounds.append(run_query_pending(soak_stack, len(rounds) + 1))
        snapshot = read_snapshot(soak_stack)
    simulator = _simulator_view(soak_stack)
    counts, problems = tally(runs, snapshot, simulator, config=CONFIG, hours=hours)
    counts["query_pending"] = rounds
    counts["query_pending for refunds"] = refund_rounds
    counts["refunds"]["policy (hours)"] = hours
    problems["refund approvals refused"] = approver.errors
    counts["staff API open payments"] = _staff_open_count(base)
    clock.lap("checks")
    counts["phases (s)"] = clock.phases
    report(
        soak_stack,
        CONFIG,
        counts,
        problems,
        evidence={"snapshot": snapshot, "simulator": simulator},
    )

    # then
    assert problems["booking errors"] == []
    assert problems["open payments"] == []
    assert counts["staff API open payments"] == 0
    assert problems[MONEY] == []
    assert problems[UNEXPLAINED] == []
    assert problems[COUNTED_TWICE] == []
    assert problems[NEVER_TAKEN] == []
    assert problems["ledger amount differs from the simulator"] == []
    assert problems["STK money by payment"] == []
    assert problems["paid but not completed"] == []
    assert problems["completed but not paid"] == []
    assert problems["unknown outcome not needs_review/expired"] == []
    assert problems["paid with no trace, payment not needs_review"] == []
    assert problems["confirmed without completed payment or receipt"] == []
    assert problems["completed but booking not confirmed"] == []
    assert problems["completed twice"] == []
    assert problems["booking paid twice"] == []
    assert problems["paybill booking not paid exactly once"] == []
    assert problems["wrong paybill not unallocated with its reason"] == []
    assert problems["review payment holds the receipt that paid its booking"] == []
    assert problems["duplicate receipts"] == []
    assert problems["receipt in the ledger twice"] == []
    assert problems["report sighted twice"] == []
    assert problems["receipt differs from the ledger"] == []
    assert problems["delivered receipts missing from the ledger"] == []
    assert problems["delivered callbacks missing from PaymentEvent"] == []
    assert problems["delivered confirmations missing from PaymentEvent"] == []
    assert problems["callbacks not acknowledged"] == []
    assert problems["confirmations not acknowledged"] == []
    assert problems[RECEIPT_NOT_ON_PAYMENT] == []
    assert problems["refund approvals refused"] == []
    assert problems[MONEY_OUT] == []
    assert problems["refunded beyond the receipt"] == []
    assert problems["completed refund, booking or receipt not refunded"] == []
    assert problems["booking refunded without a completed refund"] == []
    assert problems["refund sent twice"] == []
    assert problems[OPEN_REFUNDS] == []
    assert problems["refund unknown though M-Pesa could tell"] == []
    assert problems["automatic refund not requested exactly once"] == []
    assert problems["automatic refund against the policy"] == []
    assert problems["automatic refund not approved by Finance"] == []
    assert problems["early cancellation with its receipt, no refund owed"] == []


def _wait(check, what: str) -> None:
    timeout = 60 + CONFIG.stk_lifetime + CONFIG.late_after + CONFIG.bookings / 20
    wait_until(check, timeout=timeout, what=what)


def _simulator_config() -> dict:
    config = {"callback_delay": CONFIG.callback_delay}
    if CONFIG.c2b_version == "alternate":
        # Re-registering mid-run takes a token: keep the app's valid.
        config["invalidate_previous_tokens"] = False
    return config


def _simulator_view(stack: Stack) -> dict:
    return {
        "ledger": stack.simulator("GET", "ledger"),
        "c2b": stack.simulator("GET", "c2b"),
        "callbacks": stack.simulator("GET", "callbacks")["callbacks"],
        "pushes": stack.simulator("GET", f"requests?path={PUSH_PATH}")["requests"],
        "queries": stack.simulator("GET", f"requests?path={QUERY_PATH}")["requests"],
        "money_out": stack.simulator("GET", "money-out"),
        "reversal_requests": stack.simulator("GET", f"requests?path={REVERSAL_PATH}")[
            "requests"
        ],
    }


def _staff_open_count(base: str) -> int:
    staff = login(base, *DEMO_STAFF)
    return sum(
        staff.get(f"{base}/api/payments/", params={"status": s}, timeout=30).json()[
            "count"
        ]
        for s in OPEN
    )
