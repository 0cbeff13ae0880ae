"""The soak's money going back (issue 14, point 11; see ``e2e/soak.py``).

``SOAK_CANCEL_SHARE`` of the bookings are cancelled by their client once
paid (``soak_drive``): some early enough for the full-refund policy, some
too late. The soak's processes get a policy (``soak.policy_hours``) that
falls on tomorrow morning, so the first slots are "late" and the rest "early".
Beat requests the early ones' refunds as the system user; ``Approver``, a
Finance user, approves every requested refund through the staff API while
the run goes on; the simulator's money-out faults hit a share of the
Reversals; ``query_pending`` marks the silent ones unknown and asks
Transaction Status (``settle_refunds``); ``soak_money_out`` checks the
result.
"""

import random
import threading
import time
from datetime import datetime, timedelta

import requests

from e2e.soak import NAIROBI, wait_until
from e2e.soak_db import run_query_pending
from e2e.soak_drive import CANCEL_EVERY, Slot
from e2e.soak_paybill import RIGHT
from e2e.stack import Stack

EARLY, LATE = "early", "late"
REFUNDS = "/api/staff/refunds/"
EARLY_MARGIN = timedelta(hours=1)
LATE_SHARE = 1 / 3  # of the cancellations, when enough late slots exist


def cancel_plan(
    slots: list[Slot],
    *,
    excluded: set[int],
    share: float,
    seed: int,
    hours: int,
) -> dict[int, str]:
    """Which bookings their client cancels once paid (index -> early or
    late per the policy of ``hours``): ``share`` of all bookings, a third
    of them late when the run has late slots. ``excluded``: bookings that
    never pay theirs (a cancelled push, a wrong Paybill payment)."""
    now = datetime.now(NAIROBI)
    split = now + timedelta(hours=hours)
    late, early = [], []
    for index, slot in enumerate(slots):
        start = _slot_start(slot)
        if index in excluded:
            continue
        if start < split:
            late.append(index)
        elif start >= split + EARLY_MARGIN:
            early.append(index)
    wanted = round(len(slots) * share)
    picker = random.Random(seed)  # noqa: S311 - a reproducible plan
    n_late = min(len(late), max(1, round(wanted * LATE_SHARE))) if wanted else 0
    n_early = min(len(early), wanted - n_late)
    return {
        **{i: LATE for i in picker.sample(late, n_late)},
        **{i: EARLY for i in picker.sample(early, n_early)},
    }


def _slot_start(slot: Slot) -> datetime:
    return datetime.fromisoformat(f"{slot.day}T{slot.time}").replace(tzinfo=NAIROBI)


def never_paid(paybill: dict[int, str], count: int) -> set[int]:
    """Bookings that never pay theirs (a push from a phone that cancels it,
    a wrong Paybill payment): never planned for cancellation."""
    cancelling = {i for i in range(count) if i % CANCEL_EVERY == CANCEL_EVERY - 1}
    wrong = {i for i, variant in paybill.items() if variant not in RIGHT}
    return (cancelling - set(paybill)) | wrong


class Approver(threading.Thread):
    """A Finance user approving every requested refund, every half second,
    through the staff API, until ``stop``. Keeps each answer."""

    def __init__(self, base: str, session: requests.Session) -> None:
        super().__init__(name="soak-approver", daemon=True)
        self.base, self.session = base, session
        self.approved: list[int] = []
        self.errors: list[str] = []
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.5):
            self.approve_requested()

    def approve_requested(self) -> int:
        """Approve what is requested now; how many."""
        approved = 0
        try:
            for refund_id in self._requested():
                answer = self.session.post(
                    f"{self.base}{REFUNDS}{refund_id}/approve/", json={}, timeout=60
                )
                if answer.status_code == 200:
                    self.approved.append(refund_id)
                    approved += 1
                else:
                    self.errors.append(
                        f"{refund_id}: {answer.status_code} {answer.text[:200]}"
                    )
        except requests.RequestException as exc:
            self.errors.append(f"staff API: {exc}")
        return approved

    def _requested(self) -> list[int]:
        ids = {r["id"] for r in self.refunds(status="requested")}
        return sorted(ids - set(self.approved))

    def booking_receipt(self, booking_id: int) -> str | None:
        """The booking's receipt now (a late callback may have brought the
        receipt of a booking an STK query had paid)."""
        url = f"{self.base}/api/bookings/{booking_id}/"
        return self.session.get(url, timeout=60).json()["receipt"]

    def refunds(self, status: str = "") -> list[dict]:
        """Every refund the staff API lists (of ``status``, if given)."""
        url = f"{self.base}{REFUNDS}"
        params: dict | None = {"status": status} if status else None
        found = []
        while url:
            answer = self.session.get(url, params=params, timeout=60)
            answer.raise_for_status()
            page = answer.json()
            found += page["results"]
            url, params = page.get("next"), None
        return found

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=30)


def settle_refunds(
    stack: Stack, approver: Approver, runs: list, *, result_wait: float
) -> list[dict]:
    """Wait until the refunds stop moving; whenever one waits on M-Pesa
    (submitted with no result, unknown though its Reversal moved money),
    run ``query_pending`` (its refunds sweep) past ``result_wait``. At most
    three rounds; returns each round's refunds summary."""
    rounds = []
    while len(rounds) < 3:
        wait_until(
            lambda: not _moving(stack, approver, runs),
            timeout=60,
            what="refunds requested, approved and answered",
        )
        if not _waiting_on_mpesa(stack, approver):
            break
        time.sleep(result_wait + 0.5)
        rounds.append(run_query_pending(stack, 10 + len(rounds))["refunds"])
    return rounds


def _moving(stack: Stack, approver: Approver, runs: list) -> list:
    """Refunds owed and not requested yet (an early cancellation whose
    booking has its receipt), requested or approved ones, and money-out
    results the simulator has still to post."""
    refunds = approver.refunds()
    asked = {r["booking_reference"] for r in refunds}
    owed = [
        r.reference
        for r in runs
        if r.cancel == EARLY
        and r.cancelled == "cancelled"
        and r.reference not in asked
        and (r.cancel_receipt or approver.booking_receipt(r.booking_id))
    ]
    return (
        owed
        + [r["id"] for r in refunds if r["status"] in ("requested", "approved")]
        + [
            req["ConversationID"]
            for req in stack.simulator("GET", "money-out")["requests"]
            if any(d["state"] == "scheduled" for d in req["deliveries"])
        ]
    )


def _waiting_on_mpesa(stack: Stack, approver: Approver) -> list:
    moved = moved_by_originator({"money_out": stack.simulator("GET", "money-out")})
    return [
        r["id"]
        for r in approver.refunds()
        if r["status"] == "submitted"
        or (r["status"] == "unknown" and moved.get(r["originator_conversation_id"]))
    ]


def automatic_refunds_owed(snapshot: dict, *, hours: int) -> dict[int, str]:
    """Booking id -> its money-in receipt, for every booking the automatic
    refund is for: cancelled at least ``hours`` before its start, its money
    in the ledger (a payment settled by a query has no receipt yet)."""
    receipts = {
        r["booking_id"]: r["receipt_number"]
        for r in snapshot["receipts"]
        if r["direction"] == "in"
        and r["booking_id"]
        and r["allocation"] in ("allocated", "refunded")
    }
    return {
        b["id"]: receipts[b["id"]]
        for b in snapshot["bookings"]
        if b["status"] == "cancelled"
        and b["payment_status"] in ("refund_due", "refunded")
        and b["id"] in receipts
        and is_early(b, hours=hours)
    }


def is_early(booking: dict, *, hours: int) -> bool:
    """Cancelled early enough for the automatic full refund."""
    start = datetime.fromisoformat(booking["start"])
    cancelled = datetime.fromisoformat(booking["cancelled_at"])
    return start >= cancelled + timedelta(hours=hours)


def moved_by_originator(simulator: dict) -> dict[str, bool]:
    """OriginatorConversationID -> whether its Reversal or B2C moved money."""
    return {
        req["OriginatorConversationID"]: req["moved_money"]
        for req in simulator["money_out"]["requests"]
        if req["kind"] in ("reversal", "b2c")
    }
