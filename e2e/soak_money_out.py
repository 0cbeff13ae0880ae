"""The soak's money-out invariants (issue 14, point 11; see ``e2e/soak.py``).

The refunds, the ledger's money out and the bookings they paid back
against the simulator's money-out book (``GET /simulator/money-out``) and
its raw request log:

- money in − money out per our ledger equals the simulator's
  ``net_balance`` (money in: the ledger's receipts in, the completed
  payments whose receipt is pending and the money held in review, as the
  money equation counts them; money out: the ledger's receipts out), and
  our money out equals the simulator's, receipt by receipt;
- no receipt has completed refunds beyond its amount;
- every completed refund's booking is ``refunded`` and its receipt
  ``refunded``; no other booking is;
- no refund was sent twice: at most one Reversal request per
  OriginatorConversationID in the simulator's log, and at most one
  reversal that moved money per receipt;
- no refund is left requested, approved or submitted; an unknown one only
  when its Reversal moved no money (a queue time-out that dropped it), so
  Transaction Status could not tell (listed in the counts);
- every booking the automatic refund is for (cancelled early enough, its
  money in the ledger) has exactly one, requested by the system user and
  approved by the Finance user; a booking cancelled too late has none.
"""

from collections import Counter

from e2e.soak_db import FINANCE_USER
from e2e.soak_refunds import EARLY, automatic_refunds_owed, moved_by_originator

SYSTEM_USER = "hakiyetu-system"  # REFUND_SYSTEM_USERNAME's default
REVERSAL_PATH = "/mpesa/reversal/v1/request"
MONEY_OUT = "money out: ledger against the simulator"
OPEN_REFUNDS = "refund left requested, approved or submitted"


def money_out_counts(runs: list, snapshot: dict, simulator: dict) -> dict:
    """Cancellations, refunds, faults, status checks and the money."""
    refunds, money = snapshot["refunds"], simulator["money_out"]
    by_originator = {r["OriginatorConversationID"]: r for r in money["requests"]}
    return {
        "cancellations (plan/result)": dict(
            Counter(f"{r.cancel}/{r.cancelled or r.error}" for r in runs if r.cancel)
        ),
        "cancelled without a receipt (left to staff)": [
            r.booking_id
            for r in runs
            if r.cancelled == "cancelled" and not r.cancel_receipt
        ],
        "refunds by status": dict(Counter(r["status"] for r in refunds)),
        "refunds by reversal faults/status": dict(
            Counter(
                "+".join(
                    by_originator.get(r["originator_conversation_id"], {}).get("faults")
                    or ["none"]
                )
                + f"/{r['status']}"
                for r in refunds
            )
        ),
        "status checks by state/result": dict(
            Counter(
                f"{c['state']}/{c['result_code']}" for c in snapshot["status_checks"]
            )
        ),
        "unknown refunds (money did not move, M-Pesa could not tell)": [
            (r["id"], r["amount"]) for r in refunds if r["status"] == "unknown"
        ],
        "money (KES)": _money(snapshot, simulator),
    }


def money_out_problems(
    runs: list, snapshot: dict, simulator: dict, *, took: int, hours: int
) -> dict:
    """Every money-out invariant's violations; ``took`` is the money in as
    the money equation explains it."""
    money = _money(snapshot, simulator, took=took)
    return {
        MONEY_OUT: _ledger_against_simulator(snapshot, simulator)
        + ([] if money["balance difference"] == 0 else [money]),
        "refunded beyond the receipt": _beyond_receipt(snapshot),
        "completed refund, booking or receipt not refunded": _not_refunded(snapshot),
        "booking refunded without a completed refund": _refunded_without(snapshot),
        "refund sent twice": _sent_twice(simulator),
        OPEN_REFUNDS: [
            (r["id"], r["status"])
            for r in snapshot["refunds"]
            if r["status"] in ("requested", "approved", "submitted")
        ],
        "refund unknown though M-Pesa could tell": _unknown_but_moved(
            snapshot, simulator
        ),
        **_automatic_problems(runs, snapshot, hours=hours),
    }


def _money(snapshot: dict, simulator: dict, *, took: int | None = None) -> dict:
    ledger = simulator["ledger"]
    ours_out = sum(r["amount"] for r in snapshot["receipts"] if r["direction"] == "out")
    money_in = ledger["money_in_amount"] if took is None else took
    return {
        "simulator money in": ledger["money_in_amount"],
        "simulator money out": ledger["money_out_amount"],
        "simulator net_balance": ledger["net_balance"],
        "ledger money out": ours_out,
        "balance difference": money_in - ours_out - ledger["net_balance"],
    }


def _ledger_against_simulator(snapshot: dict, simulator: dict) -> list:
    """Each reversal that moved money is our receipt out, same amount, and
    each receipt out is one the simulator paid out."""
    paid_out = {
        r["TransactionID"]: r["amount"]
        for r in simulator["money_out"]["requests"]
        if r["moved_money"]
    }
    ours = {
        r["receipt_number"]: r["amount"]
        for r in snapshot["receipts"]
        if r["direction"] == "out"
    }
    return [
        (number, ours.get(number), paid_out.get(number))
        for number in sorted(set(paid_out) | set(ours))
        if ours.get(number) != paid_out.get(number)
    ]


def _beyond_receipt(snapshot: dict) -> list:
    amounts = {r["receipt_number"]: r["amount"] for r in snapshot["receipts"]}
    refunded = Counter()
    for refund in snapshot["refunds"]:
        if refund["status"] == "completed":
            refunded[refund["receipt__receipt_number"]] += refund["amount"]
    return [
        (number, total, amounts.get(number))
        for number, total in refunded.items()
        if total > amounts.get(number, 0)
    ]


def _not_refunded(snapshot: dict) -> list:
    bookings = {b["id"]: b for b in snapshot["bookings"]}
    receipts = {r["receipt_number"]: r for r in snapshot["receipts"]}
    return [
        (
            r["id"],
            bookings[r["booking_id"]]["payment_status"],
            receipts[r["receipt__receipt_number"]]["allocation"],
        )
        for r in snapshot["refunds"]
        if r["status"] == "completed"
        and (
            bookings[r["booking_id"]]["payment_status"] != "refunded"
            or receipts[r["receipt__receipt_number"]]["allocation"] != "refunded"
        )
    ]


def _refunded_without(snapshot: dict) -> list:
    completed = {
        r["booking_id"] for r in snapshot["refunds"] if r["status"] == "completed"
    }
    return [
        b["id"]
        for b in snapshot["bookings"]
        if b["payment_status"] == "refunded" and b["id"] not in completed
    ]


def _sent_twice(simulator: dict) -> list:
    sent = Counter(
        (r["body"] or {}).get("OriginatorConversationID")
        for r in simulator["reversal_requests"]
    )
    moved = Counter(
        r["original_receipt"]
        for r in simulator["money_out"]["requests"]
        if r["kind"] == "reversal" and r["moved_money"]
    )
    return [("request", oid, n) for oid, n in sent.items() if n > 1] + [
        ("receipt reversed", receipt, n) for receipt, n in moved.items() if n > 1
    ]


def _unknown_but_moved(snapshot: dict, simulator: dict) -> list:
    moved = moved_by_originator(simulator)
    return [
        (r["id"], r["originator_conversation_id"])
        for r in snapshot["refunds"]
        if r["status"] == "unknown"
        and moved.get(r["originator_conversation_id"], False)
    ]


def _automatic_problems(runs: list, snapshot: dict, *, hours: int) -> dict:
    owed = automatic_refunds_owed(snapshot, hours=hours)
    automatic = Counter(
        r["booking_id"]
        for r in snapshot["refunds"]
        if r["requested_by__username"] == SYSTEM_USER
    )
    cancelled = {r.booking_id for r in runs if r.cancelled == "cancelled"}
    return {
        "automatic refund not requested exactly once": [
            (booking, automatic[booking]) for booking in owed if automatic[booking] != 1
        ],
        "automatic refund against the policy": sorted(set(automatic) - set(owed)),
        "automatic refund not approved by Finance": [
            r["id"]
            for r in snapshot["refunds"]
            if r["requested_by__username"] == SYSTEM_USER
            and r["approved_by__username"] != FINANCE_USER
        ],
        "early cancellation with its receipt, no refund owed": [
            r.booking_id
            for r in runs
            if r.cancel == EARLY
            and r.booking_id in cancelled
            and r.cancel_receipt
            and r.booking_id not in owed
        ],
    }
