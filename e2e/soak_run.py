"""One fault-injection soak against a running stack, and what must hold after it.

``run_soak`` drives the bookings (spread over every web server of the
stack), waits for the callbacks, runs ``query_pending``, settles the
refunds and returns the report's counts and problems;
``assert_soak_held`` is every invariant of docs/soak.md. ``test_soak.py``
runs them on one host, ``test_scale_out.py`` on two.
"""

import time

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
from e2e.stack import Stack

DEMO_STAFF = ("demo-staff", "hakiyetu-demo")
PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
QUERY_PATH = "/mpesa/stkpushquery/v1/query"
REVERSAL_PATH = "/mpesa/reversal/v1/request"
POLICY = "REFUND_FULL_IF_CANCELLED_HOURS_BEFORE"


def run_soak(stack: Stack, config: SoakConfig) -> tuple[dict, dict]:
    """Book, pay, fault, reconcile and refund; the report's (counts, problems)."""
    # given
    clock, base = Stopwatch(), stack.web_url
    password = seed_soak_data(stack, config)
    names = [f"soak-client-{n}" for n in range(config.clients)]
    sessions = [login(base, name, password) for name in names]
    slots = find_slots(sessions[0], base, config.bookings)
    stack.simulator("POST", "config", _simulator_config(config))
    register_c2b_urls(stack, first_c2b_version(config.c2b_version))
    stack.simulator("POST", "faults", config.fault_rules())
    hours = int(stack.env[POLICY])
    paybill = paybill_plan(config.bookings, config.paybill_share, config.seed)
    approver = Approver(base, login(base, FINANCE_USER, password))
    plan = Plan(
        simulator_url=stack.simulator_url,
        paybill=paybill,
        cancel=cancel_plan(
            slots,
            excluded=never_paid(paybill, config.bookings),
            share=config.cancel_share,
            seed=config.seed,
            hours=hours,
        ),
        milestones=c2b_milestones(
            stack,
            count=config.bookings,
            double_share=config.double_notification,
            version=config.c2b_version,
        ),
    )
    clock.lap("setup")

    # when
    approver.start()
    runs = drive(stack.web_urls, sessions, slots, config.concurrency, plan)
    every_push_past_lifetime = time.monotonic() + config.stk_lifetime + 1
    clock.lap("book and pay")
    _wait(config, lambda: only_late_callbacks_left(stack), "callbacks due")
    time.sleep(max(0.0, every_push_past_lifetime - time.monotonic()))
    clock.lap("callbacks due")
    rounds = [run_query_pending(stack, 1)]
    clock.lap("query_pending")
    _wait(config, lambda: all_callbacks_sent(stack), "late callbacks")
    clock.lap("late callbacks")
    refund_rounds = settle_refunds(
        stack, approver, runs, result_wait=config.result_wait
    )
    approver.stop()
    clock.lap("refunds")
    snapshot = read_snapshot(stack)
    while open_payments(snapshot) and len(rounds) < 3:
        time.sleep(config.query_claim_seconds + 1)  # a run skips payments queried since
        rounds.append(run_query_pending(stack, len(rounds) + 1))
        snapshot = read_snapshot(stack)
    simulator = _simulator_view(stack)
    counts, problems = tally(runs, snapshot, simulator, config=config, hours=hours)
    counts["query_pending"] = rounds
    counts["query_pending for refunds"] = refund_rounds
    counts["refunds"]["policy (hours)"] = hours
    problems["refund approvals refused"] = approver.errors
    counts["staff API open payments"] = _staff_open_count(base)
    clock.lap("checks")
    counts["phases (s)"] = clock.phases
    report(
        stack,
        config,
        counts,
        problems,
        evidence={"snapshot": snapshot, "simulator": simulator},
    )
    return counts, problems


def soak_failures(counts: dict, problems: dict) -> dict[str, object]:
    """Every invariant of docs/soak.md that did not hold, by name (empty: all held)."""
    failures = {key: problems[key] for key in SOAK_INVARIANTS if problems[key]}
    if counts["staff API open payments"]:
        failures["staff API open payments"] = counts["staff API open payments"]
    # A run whose pushes all failed checks nothing of STK and holds every
    # invariant vacuously (a secret holding "cmd" once made every callback
    # URL unusable): at least half of the pushes sent must be accepted.
    sent = counts["pushes"]["sent"]
    accepted = counts["simulator"]["pushes accepted"]
    if sent and accepted < sent / 2:
        failures["pushes accepted by the simulator"] = (
            f"{accepted} of {sent}: {counts['pushes']['answers']}"
        )
    return failures


# The report's problem lists that must all be empty after a soak.
SOAK_INVARIANTS = (
    "booking errors",
    "open payments",
    MONEY,
    UNEXPLAINED,
    COUNTED_TWICE,
    NEVER_TAKEN,
    "ledger amount differs from the simulator",
    "STK money by payment",
    "paid but not completed",
    "completed but not paid",
    "unknown outcome not needs_review/expired",
    "paid with no trace, payment not needs_review",
    "confirmed without completed payment or receipt",
    "completed but booking not confirmed",
    "completed twice",
    "booking paid twice",
    "paybill booking not paid exactly once",
    "wrong paybill not unallocated with its reason",
    "review payment holds the receipt that paid its booking",
    "duplicate receipts",
    "receipt in the ledger twice",
    "report sighted twice",
    "receipt differs from the ledger",
    "delivered receipts missing from the ledger",
    "delivered callbacks missing from PaymentEvent",
    "delivered confirmations missing from PaymentEvent",
    "callbacks not acknowledged",
    "confirmations not acknowledged",
    RECEIPT_NOT_ON_PAYMENT,
    "refund approvals refused",
    MONEY_OUT,
    "refunded beyond the receipt",
    "completed refund, booking or receipt not refunded",
    "booking refunded without a completed refund",
    "refund sent twice",
    OPEN_REFUNDS,
    "refund unknown though M-Pesa could tell",
    "automatic refund not requested exactly once",
    "automatic refund against the policy",
    "automatic refund not approved by Finance",
    "early cancellation with its receipt, no refund owed",
)


def _wait(config: SoakConfig, check, what: str) -> None:
    timeout = 60 + config.stk_lifetime + config.late_after + config.bookings / 20
    wait_until(check, timeout=timeout, what=what)


def _simulator_config(soak: SoakConfig) -> dict:
    config = {"callback_delay": soak.callback_delay}
    if soak.c2b_version == "alternate":
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
