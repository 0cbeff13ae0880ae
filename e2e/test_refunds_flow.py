"""Refunds end to end (issue 14, point 11), through the real processes.

A client books, pays by STK (the simulator) and cancels more than
``REFUND_FULL_IF_CANCELLED_HOURS_BEFORE`` (24) hours ahead; beat's
"request-due-refunds" requests the refund as the system user; a Finance
user (the second person) approves it through the staff API; the worker
sends the Reversal and the simulator posts its result (or, with its
``queue_timeout`` fault, a queue time-out notice, and then the refunds
sweep's Transaction Status finds the money moved). Staff users are made
in set-up (``e2e/staff.py``); everything after goes over HTTP, and the
ledger is read back with ``manage.py shell``.
"""

import time
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from e2e.soak_drive import login
from e2e.staff import (
    create_staff_users,
    read_ledger,
    read_refund_history,
    refund_decide,
    refund_wait,
    refunds_of,
)

pytestmark = pytest.mark.e2e

SUCCESS_PHONE = "254708374149"
FINANCE, SECOND_FINANCE, SUPPORT = "e2e-finance", "e2e-finance-2", "e2e-support"
SYSTEM_USER = "hakiyetu-system"  # REFUND_SYSTEM_USERNAME's default
DAYS_AHEAD = 3  # well beyond the 24 h of the full-refund policy
FINAL = ("completed", "failed")


@pytest.fixture(scope="module")
def staff(live_stack) -> dict[str, requests.Session]:
    """Token sessions of two Finance users and a Support user."""
    password = create_staff_users(
        live_stack,
        {FINANCE: "Finance", SECOND_FINANCE: "Finance", SUPPORT: "Support"},
    )
    base = live_stack.web_url
    return {
        name: login(base, name, password) for name in (FINANCE, SECOND_FINANCE, SUPPORT)
    }


def test_refund_of_an_early_cancellation_is_reversed_once(live_stack, api, staff):
    # given: a paid booking three days ahead, cancelled by its client
    base = live_stack.web_url
    booking = _book_and_pay(api, base)
    _cancel(api, base, booking["booking_id"])
    refund = _automatic_refund(staff[FINANCE], base, booking["reference"])

    # when: a Finance user, not the requester, approves it
    approved = refund_decide(staff[FINANCE], base, refund["id"], "approve")
    done = refund_wait(staff[FINANCE], base, refund["id"], statuses=FINAL)

    # then
    assert (refund["requested_by"], refund["method"]) == (SYSTEM_USER, "reversal")
    assert refund["amount"] == booking["amount"]
    assert approved.status_code == 200, approved.text
    assert approved.json()["approved_by"] == FINANCE
    assert done["status"] == "completed"
    assert done["result_code"] == "0"
    assert _payment_status(api, base, booking["booking_id"]) == "refunded"
    assert _ledger_out(live_stack, booking, done) == [
        {"direction": "out", "channel": "reversal", "amount": booking["amount"]}
    ]
    assert _original_allocation(live_stack, booking) == "refunded"
    assert _reversals_sent(live_stack, done) == 1
    assert read_refund_history(live_stack, refund_id=refund["id"])[-3:] == [
        "approved",
        "submitted",
        "completed",
    ]


def test_refund_whose_result_times_out_is_settled_by_transaction_status(
    live_stack, api, staff
):
    # given: M-Pesa's queue times out the Reversal, though the money moves
    base = live_stack.web_url
    booking = _book_and_pay(api, base)
    _cancel(api, base, booking["booking_id"])
    refund = _automatic_refund(staff[FINANCE], base, booking["reference"])
    live_stack.simulator(
        "POST", "faults", {"fault": "queue_timeout", "endpoint": "reversal"}
    )

    # when
    approved = refund_decide(staff[SECOND_FINANCE], base, refund["id"], "approve")
    done = refund_wait(staff[FINANCE], base, refund["id"], statuses=FINAL)

    # then: unknown on the notice, completed on Transaction Status's answer
    assert approved.status_code == 200, approved.text
    assert done["status"] == "completed"
    assert read_refund_history(live_stack, refund_id=refund["id"])[-4:] == [
        "approved",
        "submitted",
        "unknown",
        "completed",
    ]
    assert _status_queries(live_stack) >= 1
    assert _reversals_sent(live_stack, done) == 1
    assert _payment_status(api, base, booking["booking_id"]) == "refunded"
    assert _ledger_out(live_stack, booking, done) == [
        {"direction": "out", "channel": "reversal", "amount": booking["amount"]}
    ]


def test_refund_approval_needs_finance_and_a_second_person(live_stack, api, staff):
    # given: the automatic request rejected, then requested again by a
    # Finance user (a rejected request is left to people)
    base = live_stack.web_url
    booking = _book_and_pay(api, base)
    _cancel(api, base, booking["booking_id"])
    automatic = _automatic_refund(staff[FINANCE], base, booking["reference"])
    rejected = refund_decide(
        staff[FINANCE], base, automatic["id"], "reject", note="asked again below"
    )
    mine = staff[FINANCE].post(
        f"{base}/api/staff/refunds/",
        json={"receipt_number": automatic["receipt_number"], "reason": "cancelled"},
        timeout=30,
    )

    # when
    by_support = refund_decide(staff[SUPPORT], base, mine.json()["id"], "approve")
    by_requester = refund_decide(staff[FINANCE], base, mine.json()["id"], "approve")

    # then
    assert rejected.status_code == 200, rejected.text
    assert mine.status_code == 201, mine.text
    assert by_support.status_code == 403
    assert by_support.json()["error"]["code"] == "permission_denied"
    assert by_requester.status_code == 409
    assert by_requester.json()["error"]["code"] == "refund_refused"
    assert by_requester.json()["error"]["reason_code"] == "same_person"
    still = staff[SUPPORT].get(f"{base}/api/staff/refunds/{mine.json()['id']}/")
    assert still.json()["status"] == "requested"
    assert live_stack.simulator("GET", "money-out")["money_out_count"] == 0


# --- steps -------------------------------------------------------------------


def _book_and_pay(api: requests.Session, base: str) -> dict:
    """Book a free slot ``DAYS_AHEAD`` days ahead and pay it by STK."""
    day = (timezone.localdate() + timedelta(days=DAYS_AHEAD)).isoformat()
    advocate = api.get(f"{base}/api/advocates/", timeout=10).json()["results"][0]
    slots = api.get(
        f"{base}/api/advocates/{advocate['id']}/slots/",
        params={"date": day, "consultation_type": "video", "duration": 30},
        timeout=10,
    ).json()
    answer = api.post(
        f"{base}/api/documents/consultations/book",
        json={
            "advocate_id": advocate["id"],
            "date": day,
            "time": slots[0]["time"],
            "consultation_type": "video",
            "duration": 30,
        },
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    booking = answer.json()
    push = api.post(
        f"{base}/api/payment/mpesa/stk-push",
        json={"phone_number": SUCCESS_PHONE, "booking_id": booking["booking_id"]},
        timeout=30,
    )
    assert push.status_code == 201, push.text
    _wait_for(
        lambda: _payment_status(api, base, booking["booking_id"]) == "paid",
        what=f"booking {booking['booking_id']} paid",
    )
    return booking


def _cancel(api: requests.Session, base: str, booking_id: int) -> None:
    answer = api.post(f"{base}/api/bookings/{booking_id}/cancel/", timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["payment_status"] == "refund_due"


def _automatic_refund(finance: requests.Session, base: str, reference: str) -> dict:
    """The refund beat requests for the booking (within a few seconds)."""
    found: list[dict] = []

    def requested() -> bool:
        found[:] = refunds_of(finance, base, reference=reference)
        return bool(found)

    _wait_for(requested, what=f"an automatic refund of {reference}")
    assert len(found) == 1, found
    assert found[0]["status"] == "requested"
    return found[0]


def _payment_status(api: requests.Session, base: str, booking_id: int) -> str:
    return api.get(f"{base}/api/bookings/{booking_id}/", timeout=10).json()[
        "payment_status"
    ]


def _ledger_out(live_stack, booking: dict, refund: dict) -> list[dict]:
    """The booking's money-out receipts: the refund's own, as the ledger has it."""
    rows = read_ledger(live_stack, booking_id=booking["booking_id"])
    out = [r for r in rows if r["direction"] == "out"]
    assert [r["receipt_number"] for r in out] == [refund["refund_receipt_number"]]
    return [{k: r[k] for k in ("direction", "channel", "amount")} for r in out]


def _original_allocation(live_stack, booking: dict) -> str:
    rows = read_ledger(live_stack, booking_id=booking["booking_id"])
    (money_in,) = [r for r in rows if r["direction"] == "in"]
    return money_in["allocation"]


def _reversals_sent(live_stack, refund: dict) -> int:
    """Reversals the simulator accepted under the refund's own id."""
    sent = live_stack.simulator("GET", "money-out")["requests"]
    return sum(
        1
        for r in sent
        if r["kind"] == "reversal"
        and r["OriginatorConversationID"] == refund["originator_conversation_id"]
    )


def _status_queries(live_stack) -> int:
    sent = live_stack.simulator("GET", "money-out")["requests"]
    return sum(1 for r in sent if r["kind"] == "transaction_status")


def _wait_for(check, *, what: str, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.5)
