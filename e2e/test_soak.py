"""Fault-injection soak (issue 8, item 6): nothing lost, nothing twice.

Books ``SOAK_BOOKINGS`` slots (60 by default, 2,000 at full size) across
several clients, advocates and days, and pays each through the real API
while the simulator duplicates 10% of callbacks, loses 10%, sends 5% after
the STK lifetime, answers 5% of pushes and queries with 500/503/429 and
holds 2% of pushes past our read time-out. Then ``query_pending`` runs and
the test checks the money, the states, the bookings, the receipts and the
callbacks against the simulator's ledger, and prints the counts.

Full size (see docs/soak.md)::

    SOAK_BOOKINGS=2000 .venv/bin/pytest e2e/test_soak.py -m soak -s
"""

import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from e2e.soak import (
    SoakConfig,
    Stopwatch,
    all_callbacks_sent,
    drive,
    find_slots,
    login,
    only_late_callbacks_left,
    read_snapshot,
    run_query_pending,
    seed_soak_data,
    wait_until,
)
from e2e.stack import BASE_DIR, Stack, start_stack

pytestmark = [pytest.mark.e2e, pytest.mark.soak]

CONFIG = SoakConfig.from_env()
# Redis database of the soak's processes: not the e2e stack's (13), which
# may be alive in the same session.
SOAK_REDIS_DB = os.environ.get("E2E_SOAK_REDIS_DB", "14")
DEMO_STAFF = ("demo-staff", "hakiyetu-demo")
OPEN = ("initiated", "pending")
PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
QUERY_PATH = "/mpesa/stkpushquery/v1/query"
REPORT_DIR = BASE_DIR / "test-artifacts" / "soak"
# A known fault the soak finds (docs/soak.md, "Findings"): reported as an
# expected failure until fixed, so the other invariants keep guarding CI.
KNOWN_BUG = "callback receipt not on its payment"
# Where the simulator's paid money may be in the app (Books.where): on a
# completed payment; in a stored callback no payment claims (push outcome
# unknown); or nowhere, when that callback was lost too, and then the
# payment must be in review (checked separately).
PLACES_FOR_MONEY = ("completed payment", "unmatched callback", "no trace")


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
    soak_stack.simulator("POST", "config", {"callback_delay": CONFIG.callback_delay})
    soak_stack.simulator("POST", "faults", CONFIG.fault_rules())
    clock.lap("setup")

    # when
    runs = drive(base, sessions, slots, CONFIG.concurrency)
    every_push_past_lifetime = time.monotonic() + CONFIG.stk_lifetime + 1
    clock.lap("book and pay")
    _wait(lambda: only_late_callbacks_left(soak_stack), "callbacks due")
    time.sleep(max(0.0, every_push_past_lifetime - time.monotonic()))
    clock.lap("callbacks due")
    rounds = [run_query_pending(soak_stack, 1)]
    clock.lap("query_pending")
    _wait(lambda: all_callbacks_sent(soak_stack), "late callbacks")
    clock.lap("late callbacks")
    snapshot = read_snapshot(soak_stack)
    while _open(snapshot) and len(rounds) < 3:
        time.sleep(CONFIG.query_claim_seconds + 1)  # a run skips payments queried since
        rounds.append(run_query_pending(soak_stack, len(rounds) + 1))
        snapshot = read_snapshot(soak_stack)
    counts, problems = tally(runs, snapshot, _simulator_view(soak_stack))
    counts["query_pending"] = rounds
    counts["staff API open payments"] = _staff_open_count(base)
    clock.lap("checks")
    counts["phases (s)"] = clock.phases
    _report(soak_stack, counts, problems)

    # then
    assert problems["booking errors"] == []
    assert problems["open payments"] == []
    assert counts["staff API open payments"] == 0
    assert problems["money"] == []
    assert problems["paid but not completed"] == []
    assert problems["completed but not paid"] == []
    assert problems["unknown outcome not needs_review/expired"] == []
    assert problems["paid with no trace, payment not needs_review"] == []
    assert problems["confirmed without completed payment"] == []
    assert problems["completed but booking not confirmed"] == []
    assert problems["completed twice"] == []
    assert problems["booking paid twice"] == []
    assert problems["duplicate receipts"] == []
    assert problems["receipt differs from the ledger"] == []
    assert problems["delivered callbacks missing from PaymentEvent"] == []
    assert problems["callbacks not acknowledged"] == []
    if problems[KNOWN_BUG]:
        pytest.xfail(f"{KNOWN_BUG}: {problems[KNOWN_BUG]}")


def _wait(check, what: str) -> None:
    timeout = 60 + CONFIG.stk_lifetime + CONFIG.late_after + CONFIG.bookings / 20
    wait_until(check, timeout=timeout, what=what)


def _open(snapshot: dict) -> list[int]:
    return [p["id"] for p in snapshot["payments"] if p["status"] in OPEN]


def _simulator_view(stack: Stack) -> dict:
    return {
        "ledger": stack.simulator("GET", "ledger"),
        "callbacks": stack.simulator("GET", "callbacks")["callbacks"],
        "pushes": stack.simulator("GET", f"requests?path={PUSH_PATH}")["requests"],
        "queries": stack.simulator("GET", f"requests?path={QUERY_PATH}")["requests"],
    }


def _staff_open_count(base: str) -> int:
    staff = login(base, *DEMO_STAFF)
    return sum(
        staff.get(f"{base}/api/payments/", params={"status": s}, timeout=30).json()[
            "count"
        ]
        for s in OPEN
    )


# --- accounting ----------------------------------------------------------------


class Books:
    """The app's rows and the simulator's ledger, indexed for the checks."""

    def __init__(self, snapshot: dict, simulator: dict) -> None:
        self.snapshot, self.ledger = snapshot, simulator["ledger"]
        self.payments = snapshot["payments"]
        self.known = {
            p["checkout_request_id"]: p
            for p in self.payments
            if p["checkout_request_id"]
        }
        self.paid = {
            entry["CheckoutRequestID"]: entry
            for entry in self.ledger["payments"]
            if str(entry["result_code"]) == "0"
        }
        self.unmatched = _unmatched_success(snapshot["callbacks"])
        self.completed = [p for p in self.payments if p["status"] == "completed"]
        unknown_ids = set(snapshot["unknown_outcome"])
        self.unknown = [p for p in self.payments if p["id"] in unknown_ids]

    def where(self, checkout_id: str) -> str:
        """Where the app keeps the money of one paid push."""
        if checkout_id in self.known:
            return f"{self.known[checkout_id]['status']} payment"
        if checkout_id in self.unmatched:
            return "unmatched callback"
        return "no trace"  # outcome unknown to the app and callback lost

    def money(self) -> dict[str, int]:
        """The simulator's paid amount, split by where the app keeps it."""
        split = Counter()
        for checkout_id, entry in self.paid.items():
            split[self.where(checkout_id)] += entry["paid_amount"]
        return {
            "simulator successful_amount": self.ledger["successful_amount"],
            **dict(split),
            "completed sum": sum(p["amount"] for p in self.completed),
            "unmatched success callbacks sum": sum(self.unmatched.values()),
        }

    def untraced(self) -> list[tuple]:
        """Paid pushes with no trace, each with the unknown-outcome payment
        of the same phone (phones are distinct per booking)."""
        by_phone = {p["phone_number"]: p for p in self.unknown}
        return [
            (checkout_id, entry["paid_amount"], by_phone.get(entry["phone"]))
            for checkout_id, entry in self.paid.items()
            if self.where(checkout_id) == "no trace"
        ]


def tally(runs: list, snapshot: dict, simulator: dict) -> tuple[dict, dict]:
    """Counts to print, and every invariant's violations (empty: it holds)."""
    books = Books(snapshot, simulator)
    counts = {
        "bookings": _booking_counts(runs, snapshot),
        "pushes": _push_counts(runs),
        "simulator": _simulator_counts(simulator),
        "payments by status": dict(Counter(p["status"] for p in books.payments)),
        "completed without receipt (settled by query)": sum(
            1 for p in books.completed if not p["mpesa_receipt_number"]
        ),
        "unknown-outcome payments": dict(Counter(p["status"] for p in books.unknown)),
        "callback events stored/matched": [
            len(snapshot["callbacks"]),
            sum(1 for e in snapshot["callbacks"] if e["payment_id"]),
        ],
        "money (KES)": books.money(),
    }
    problems = {
        "booking errors": [r.error for r in runs if r.error],
        "open payments": _open(snapshot),
        **_money_problems(books),
        KNOWN_BUG: _receipts_not_recorded(books),
        **_booking_problems(snapshot),
        **_receipt_problems(books.payments, books.paid),
        **_callback_problems(snapshot, simulator["callbacks"]),
    }
    return counts, problems


def _callback_facts(body: object) -> tuple[str, str | None, float | None]:
    """(ResultCode, receipt, amount) of a stored callback body."""
    try:
        callback = body["Body"]["stkCallback"]
    except (KeyError, TypeError):
        return "", None, None
    items = (callback.get("CallbackMetadata") or {}).get("Item") or []
    values = {i.get("Name"): i.get("Value") for i in items}
    return (
        str(callback.get("ResultCode")),
        values.get("MpesaReceiptNumber"),
        values.get("Amount"),
    )


def _unmatched_success(events: list[dict]) -> dict[str, int]:
    """Amount per CheckoutRequestID of stored success callbacks no payment
    claims; once per id, since a duplicated callback is one payment."""
    found = {}
    for event in events:
        code, _, amount = _callback_facts(event["request_body"])
        if event["payment_id"] is None and code == "0" and amount is not None:
            found[event["checkout_request_id"]] = int(amount)
    return found


def _money_problems(books: Books) -> dict:
    money = books.money()
    kept = sum(v for k, v in money.items() if k in PLACES_FOR_MONEY)
    return {
        "money": [] if kept == money["simulator successful_amount"] else [money],
        "paid but not completed": [
            (books.known[cid]["id"], books.known[cid]["status"], entry["faults"])
            for cid, entry in books.paid.items()
            if cid in books.known and books.known[cid]["status"] != "completed"
        ],
        "completed but not paid": [
            p["id"]
            for p in books.completed
            if books.paid.get(p["checkout_request_id"], {}).get("paid_amount")
            != p["amount"]
        ],
        "unknown outcome not needs_review/expired": [
            (p["id"], p["status"])
            for p in books.unknown
            if p["status"] not in ("needs_review", "expired")
            # or completed by adopting its callback (the fix docs/soak.md
            # proposes); "completed but not paid" checks that money
            and not (p["status"] == "completed" and p["checkout_request_id"])
        ],
        "paid with no trace, payment not needs_review": [
            (cid, amount, payment and payment["status"])
            for cid, amount, payment in books.untraced()
            if payment is None or payment["status"] != "needs_review"
        ],
    }


def _receipts_not_recorded(books: Books) -> list:
    """(payment, event) for each stored success callback whose receipt is
    not on the payment with its CheckoutRequestID. Seen when the callback
    overtook the push's commit: it was kept unmatched, and the payment was
    later settled by a query, which carries no receipt (docs/soak.md)."""
    missing = []
    for event in books.snapshot["callbacks"]:
        code, receipt, _ = _callback_facts(event["request_body"])
        payment = books.known.get(event["checkout_request_id"])
        if code == "0" and payment and payment["mpesa_receipt_number"] != receipt:
            missing.append((payment["id"], event["id"]))
    return missing


def _booking_problems(snapshot: dict) -> dict:
    payments, bookings = snapshot["payments"], snapshot["bookings"]
    completed = Counter(p["booking_id"] for p in payments if p["status"] == "completed")
    confirmed = {
        b["id"]
        for b in bookings
        if b["status"] == "confirmed" or b["payment_status"] == "paid"
    }
    fully = {
        b["id"]
        for b in bookings
        if b["status"] == "confirmed" and b["payment_status"] == "paid"
    }
    return {
        "confirmed without completed payment": sorted(confirmed - set(completed)),
        "completed but booking not confirmed": sorted(set(completed) - fully),
        "completed twice": [
            pid for pid, n in Counter(snapshot["completions"]).items() if n > 1
        ],
        "booking paid twice": [bid for bid, n in completed.items() if n > 1],
    }


def _receipt_problems(payments: list[dict], paid: dict) -> dict:
    receipts = Counter(
        p["mpesa_receipt_number"] for p in payments if p["mpesa_receipt_number"]
    )
    return {
        "duplicate receipts": [r for r, n in receipts.items() if n > 1],
        "receipt differs from the ledger": [
            (p["id"], p["mpesa_receipt_number"])
            for p in payments
            if p["mpesa_receipt_number"]
            and paid.get(p["checkout_request_id"], {}).get("receipt")
            != p["mpesa_receipt_number"]
        ],
    }


def _callback_problems(snapshot: dict, sent: list[dict]) -> dict:
    delivered = Counter(
        c["CheckoutRequestID"] for c in sent if c["state"] in ("delivered", "failed")
    )
    stored = Counter(e["checkout_request_id"] for e in snapshot["callbacks"])
    return {
        "delivered callbacks missing from PaymentEvent": sorted(
            (delivered - stored).elements()
        ),
        "callbacks not acknowledged": [
            (c["id"], c["state"], c["http_status"], c["error"])
            for c in sent
            if c["state"] == "failed"
            or (c["state"] == "delivered" and c["http_status"] != 200)
        ],
    }


def _booking_counts(runs: list, snapshot: dict) -> dict:
    booked = [r for r in runs if r.booking_id]
    return {
        "requested": len(runs),
        "booked": len(booked),
        "clients": CONFIG.clients,
        "amounts (KES)": sorted({r.amount for r in booked}),
        "by status/payment status": dict(
            Counter(
                f"{b['status']}/{b['payment_status']}" for b in snapshot["bookings"]
            )
        ),
    }


def _push_counts(runs: list) -> dict:
    attempts = [a for r in runs for a in r.attempts]
    return {
        "sent": len(attempts),
        "answers": dict(Counter(f"{a['http']} {a['code']}".strip() for a in attempts)),
        "bookings retried after an unsent push": sum(
            1 for r in runs if len(r.attempts) > 1
        ),
    }


def _simulator_counts(simulator: dict) -> dict:
    ledger = simulator["ledger"]
    slow = CONFIG.read_timeout
    return {
        "pushes accepted": ledger["pushes"],
        "by result code": ledger["by_result_code"],
        "successful_count": ledger["successful_count"],
        "successful_amount": ledger["successful_amount"],
        "callback faults": dict(
            Counter(f for p in ledger["payments"] for f in p["faults"])
        ),
        "callbacks by kind/state": dict(
            Counter(f"{c['kind']}/{c['state']}" for c in simulator["callbacks"])
        ),
        "push answers": _statuses(simulator["pushes"]),
        "slow pushes": sum(
            1 for r in simulator["pushes"] if (r["response_delay"] or 0) > slow
        ),
        "query answers": _statuses(simulator["queries"]),
    }


def _statuses(logged: list[dict]) -> dict:
    return dict(Counter(str(r["response_status"]) for r in logged))


def _report(stack: Stack, counts: dict, problems: dict) -> None:
    """Print the counts and any violation; keep them as JSON too."""
    vendor = "postgresql" if stack.env["DATABASE_URL"].startswith("post") else "sqlite"
    title = f"soak: {CONFIG.bookings} bookings, seed {CONFIG.seed}, {vendor}"
    lines = [f"\n===== {title}"]
    lines += [f"{key}: {json.dumps(value)}" for key, value in counts.items()]
    broken = {k: v for k, v in problems.items() if v}
    lines.append(f"invariants broken: {json.dumps(broken) if broken else 'none'}")
    sys.stdout.write("\n".join(lines) + "\n")
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    path = REPORT_DIR / f"soak-{vendor}-{CONFIG.bookings}.json"
    path.write_text(json.dumps({"counts": counts, "problems": problems}, indent=1))
