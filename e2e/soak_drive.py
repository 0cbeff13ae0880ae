"""The soak's client (see ``e2e/soak.py``): book and pay through the API.

Each booking gets a phone of its own and is paid like the checkout page
pays: a push that failed unsent is retried, up to ``MAX_PUSHES``; or, for
the bookings ``soak_paybill.paybill_plan`` picks, by Paybill through the
simulator (the account number typed as the plan says). The bookings
``soak_refunds.cancel_plan`` picks are then cancelled by their client as
soon as the booking shows paid by its own payment (within
``PAID_WAIT_SECONDS``).
"""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests

from e2e import soak_paybill

NAIROBI = ZoneInfo("Africa/Nairobi")
MAX_PUSHES = 3  # a client retries a push that failed unsent, then gives up
CANCEL_EVERY = 20  # every 20th booking pays from a 2547 11... phone (1032)
# How long a client who means to cancel waits for its booking to show paid
# (its callback or confirmation); a lost or late callback is settled later
# by query_pending, and that booking is left as it is.
PAID_WAIT_SECONDS = 4.0


@dataclass(frozen=True, slots=True)
class Slot:
    """A free 30-minute video slot of one advocate."""

    advocate_id: int
    day: str
    time: str


@dataclass
class Run:
    """One booking as the client saw it: its booking and every push."""

    index: int
    phone: str
    paybill_variant: str = ""  # paid by Paybill (soak_paybill) when set
    booking_id: int | None = None
    reference: str = ""
    amount: int | None = None
    error: str = ""
    attempts: list[dict] = field(default_factory=list)
    paybill: dict | None = None  # the simulator's record of the payment
    cancel: str = ""  # planned (soak_refunds.EARLY / LATE) when set
    cancelled: str = ""  # what became of it: cancelled, not paid in time, ...
    cancel_receipt: str | None = None  # the booking's receipt when cancelled


def login(base: str, username: str, password: str) -> requests.Session:
    """A session carrying a DRF token for ``username``."""
    session = requests.Session()
    answer = session.post(
        f"{base}/api/auth/token/",
        json={"username": username, "password": password},
        timeout=30,
    )
    answer.raise_for_status()
    session.headers["Authorization"] = f"Token {answer.json()['token']}"
    return session


def find_slots(session: requests.Session, base: str, count: int) -> list[Slot]:
    """``count`` free 30-minute video slots from tomorrow on, advocates mixed."""
    advocates = _video_advocates(session, base)
    day = datetime.now(NAIROBI).date() + timedelta(days=1)
    found: list[Slot] = []
    while len(found) < count:
        by_advocate = [
            [Slot(a, day.isoformat(), s["time"]) for s in _slots(session, base, a, day)]
            for a in advocates
        ]
        longest = max(map(len, by_advocate))
        found += [row[i] for i in range(longest) for row in by_advocate if i < len(row)]
        day += timedelta(days=1)
    return found[:count]


def _video_advocates(session: requests.Session, base: str) -> list[int]:
    ids, url = [], f"{base}/api/advocates/"
    while url:
        page = session.get(url, timeout=30).json()
        ids += [
            a["id"]
            for a in page["results"]
            if any(
                o["code"] == "video" and o["duration"] == 30
                for o in a["consultation_types"]
            )
        ]
        url = page.get("next")
    return ids


def _slots(session, base: str, advocate_id: int, day) -> list[dict]:
    answer = session.get(
        f"{base}/api/advocates/{advocate_id}/slots/",
        params={"date": day.isoformat(), "consultation_type": "video", "duration": 30},
        timeout=30,
    )
    answer.raise_for_status()
    return answer.json()


def phone_for(index: int) -> str:
    """A phone of its own per booking; every 20th cancels (2547 11...)."""
    if index % CANCEL_EVERY == CANCEL_EVERY - 1:
        return f"254711{index:06d}"
    return f"25472{index:07d}"


def book_and_pay(
    session: requests.Session, base: str, slot: Slot, run: Run, simulator_url: str
) -> Run:
    """Book ``slot``, then push until accepted, unknown, or MAX_PUSHES; or
    pay it by Paybill. Then cancel it if the plan says so."""
    if not _book(session, base, slot, run):
        return run
    if run.paybill_variant:
        _pay_by_paybill(simulator_url, run)
    else:
        _pay_by_stk(session, base, run)
    if run.cancel:
        _cancel_once_paid(session, base, run)
    return run


def _pay_by_stk(session: requests.Session, base: str, run: Run) -> None:
    for _ in range(MAX_PUSHES * 4):  # waits for retry_too_soon do not count
        attempt = _push(session, base, run)
        if attempt is None:
            continue
        run.attempts.append(attempt)
        if attempt["status_after"] != "failed" or len(run.attempts) >= MAX_PUSHES:
            break


def _cancel_once_paid(session: requests.Session, base: str, run: Run) -> None:
    """``POST /api/bookings/<id>/cancel/`` once the booking shows paid."""
    url = f"{base}/api/bookings/{run.booking_id}/"
    deadline = time.monotonic() + PAID_WAIT_SECONDS
    while not _settled_and_paid(session.get(url, timeout=60).json()):
        if time.monotonic() > deadline:
            run.cancelled = "not paid in time"
            return
        time.sleep(0.3)
    answer = session.post(f"{url}cancel/", timeout=60)
    body = answer.json()
    if answer.status_code != 200 or body["payment_status"] != "refund_due":
        run.error = f"cancel {answer.status_code}: {answer.text[:200]}"
        return
    run.cancelled, run.cancel_receipt = "cancelled", body["receipt"]


def _book(session: requests.Session, base: str, slot: Slot, run: Run) -> bool:
    answer = session.post(
        f"{base}/api/documents/consultations/book",
        json={
            "advocate_id": slot.advocate_id,
            "date": slot.day,
            "time": slot.time,
            "consultation_type": "video",
            "duration": 30,
        },
        timeout=60,
    )
    if answer.status_code != 201:
        run.error = f"book {answer.status_code}: {answer.text[:200]}"
        return False
    booking = answer.json()
    run.booking_id, run.amount = booking["booking_id"], booking["amount"]
    run.reference = booking["reference"]
    return True


def _settled_and_paid(booking: dict) -> bool:
    """Paid, and by its own STK payment if it has one (none: Paybill).

    A booking whose push's receipt paid it first as the C2B copy has its
    payment closed ``failed`` until the STK callback comes; cancelled and
    refunded before that, the callback sends the payment to review
    (docs/soak.md, finding 4), so the soak's client waits for it."""
    latest = booking["latest_payment"]
    return booking["payment_status"] == "paid" and (
        latest is None or latest["status"] == "completed"
    )


def _pay_by_paybill(simulator_url: str, run: Run) -> None:
    variant = run.paybill_variant
    try:
        run.paybill = soak_paybill.pay(
            simulator_url,
            phone=run.phone,
            amount=soak_paybill.amount_for(run.amount, variant),
            account=soak_paybill.account_for(run.reference, variant),
        )
    except requests.RequestException as exc:
        run.error = f"paybill: {exc}"


def _push(session: requests.Session, base: str, run: Run) -> dict | None:
    answer = session.post(
        f"{base}/api/payment/mpesa/stk-push",
        json={"phone_number": run.phone, "booking_id": run.booking_id},
        timeout=60,
    )
    body = answer.json()
    error = body.get("error") or {}
    if error.get("code") == "retry_too_soon":
        time.sleep(float(error.get("retry_after") or 1))
        return None
    payment_id = body.get("payment_id") or error.get("payment_id")
    status = body.get("status")
    if payment_id and answer.status_code != 201:
        payment = session.get(f"{base}/api/payments/{payment_id}/", timeout=30)
        status = payment.json().get("status")
    return {
        "http": answer.status_code,
        "code": error.get("code", ""),
        "payment_id": payment_id,
        "checkout_id": body.get("CheckoutRequestID"),
        "status_after": status,
    }


@dataclass(frozen=True, slots=True)
class Plan:
    """How the run pays: which bookings by Paybill (index → variant), which
    its client cancels once paid (index → early or late), and what to
    switch on the way (index → steps run once every earlier booking is
    booked and paid, before that one starts)."""

    simulator_url: str
    paybill: dict[int, str] = field(default_factory=dict)
    cancel: dict[int, str] = field(default_factory=dict)
    milestones: dict[int, list[Callable[[], None]]] = field(default_factory=dict)


def drive(
    bases: list[str],
    sessions: list[requests.Session],
    slots: list[Slot],
    threads: int,
    plan: Plan,
) -> list[Run]:
    """Book and pay every slot, ``threads`` bookings in flight at once;
    booking ``i`` goes to web server ``bases[i % len(bases)]``."""
    runs = [
        Run(
            index=i,
            phone=phone_for(i),
            paybill_variant=plan.paybill.get(i, ""),
            cancel=plan.cancel.get(i, ""),
        )
        for i in range(len(slots))
    ]
    edges = sorted({0, len(slots), *plan.milestones})
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for start, end in zip(edges, edges[1:], strict=False):
            for step in plan.milestones.get(start, []):
                step()
            futures = [
                pool.submit(
                    book_and_pay,
                    sessions[i % len(sessions)],
                    bases[i % len(bases)],
                    slots[i],
                    runs[i],
                    plan.simulator_url,
                )
                for i in range(start, end)
            ]
            for future in futures:
                future.result()
    return runs
