"""The fault-injection soak (issue 8, item 6): drive the stack, then read it.

``test_soak.py`` states the invariants; this module does the work: seed
clients and advocates in the processes' database, book and pay through
the HTTP API while the simulator injects faults, wait for the simulator to
go quiet, run ``query_pending`` and read back the simulator's ledger and the
app's rows. The rows are read by ``manage.py shell`` with the processes'
environment, so SQLite and PostgreSQL are read the same way.
"""

import json
import os
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests

from e2e.stack import Stack

NAIROBI = ZoneInfo("Africa/Nairobi")
EXTRA_ADVOCATES = 5  # beside seed_demo's three, each with its own price
MAX_PUSHES = 3  # a client retries a push that failed unsent, then gives up
CANCEL_EVERY = 20  # every 20th booking pays from a 2547 11... phone (1032)


@dataclass(frozen=True, slots=True)
class SoakConfig:
    """Sizes and timings; ``from_env`` reads ``SOAK_*`` variables."""

    bookings: int = 60
    seed: int = 8
    concurrency: int = 8
    stk_lifetime: int = 6  # MPESA_STK_LIFETIME_SECONDS of the processes
    read_timeout: float = 2.0  # MPESA_READ_TIMEOUT; `slow` waits 2 s longer
    query_claim_seconds: int = 3  # MPESA_QUERY_CLAIM_SECONDS: query_pending reruns
    late_after: float = 10.0  # late callbacks come this long past the lifetime
    callback_delay: float = 1.0  # the customer's time to answer the prompt

    @classmethod
    def from_env(cls) -> "SoakConfig":
        return cls(
            bookings=int(os.environ.get("SOAK_BOOKINGS", "60")),
            seed=int(os.environ.get("SOAK_SEED", "8")),
            concurrency=int(os.environ.get("SOAK_CONCURRENCY", "8")),
        )

    @property
    def clients(self) -> int:
        return max(4, min(20, self.bookings // 15))

    def process_env(self) -> dict[str, str]:
        """Settings of the processes: short lifetime, one reconciler.

        The beat sweep and the per-payment follow-up query are pushed
        beyond the run, so ``query_pending`` is what settles lost callbacks
        and unknown outcomes (it runs the same ``payment_query``).
        """
        return {
            "MPESA_STK_LIFETIME_SECONDS": str(self.stk_lifetime),
            "MPESA_READ_TIMEOUT": str(self.read_timeout),
            "MPESA_QUERY_AFTER_SECONDS": "2",
            "MPESA_FOLLOW_UP_QUERY_SECONDS": "3600",
            "MPESA_RECONCILE_INTERVAL_SECONDS": "3600",
            "MPESA_QUERY_CLAIM_SECONDS": str(self.query_claim_seconds),
            "MPESA_RETRY_AFTER_FAILURE_SECONDS": "1",
            "MPESA_QUERY_RATE_PER_SECOND": "50",
            "STK_PUSH_RATE_PER_USER": "100000/min",
            "AUTH_TOKEN_RATE": "1000/min",  # noqa: S105 - a rate
        }

    def fault_rules(self) -> dict:
        """docs/simulator.md's soak rule set with this run's timings."""
        errors = {"fault": "http_error", "status": [500, 503, 429], "retry_after": 1}
        return {
            "seed": self.seed,
            "rules": [
                {"fault": "duplicate_callback", "probability": 0.10},
                {"fault": "lost_callback", "probability": 0.10},
                {
                    "fault": "late_callback",
                    "probability": 0.05,
                    "delay": self.stk_lifetime + self.late_after,
                },
                {**errors, "endpoint": "push", "probability": 0.05},
                {**errors, "endpoint": "query", "probability": 0.05},
                {
                    "fault": "slow",
                    "endpoint": "push",
                    "probability": 0.02,
                    "seconds": self.read_timeout + 2,
                },
            ],
        }


@dataclass(frozen=True, slots=True)
class Slot:
    advocate_id: int
    day: str
    time: str


@dataclass
class Run:
    """One booking as the client saw it: its booking and every push."""

    index: int
    phone: str
    booking_id: int | None = None
    amount: int | None = None
    error: str = ""
    attempts: list[dict] = field(default_factory=list)


# --- the processes' database -------------------------------------------------


def seed_soak_data(stack: Stack, config: SoakConfig) -> str:
    """Create the soak's clients and advocates; return their password."""
    password = secrets.token_urlsafe(12)
    code = (
        "from e2e.soak import create_soak_data; "
        f"create_soak_data({config.clients}, {EXTRA_ADVOCATES}, {password!r})"
    )
    stack.manage("shell", "-c", code, log="soak-seed")
    return password


def create_soak_data(clients: int, advocates: int, password: str) -> None:
    """Runs inside ``manage.py shell``: users and video advocates."""
    from datetime import time as clock

    from bookings.management.commands.seed_demo import EVERY_DAY, Command
    from bookings.models import ConsultationKind
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    hashed = make_password(password)  # once: PBKDF2 per user is slow
    get_user_model().objects.bulk_create(
        get_user_model()(username=f"soak-client-{n}", password=hashed)
        for n in range(clients)
    )
    for n in range(advocates):
        # seed_demo's own helper, so the advocates have the demo's shape.
        Command()._seed_advocate(
            f"Soak Advocate {n}",
            ["Soak testing"],
            "Takes video calls all day for the soak.",
            EVERY_DAY,
            [(clock(7), clock(21))],
            [(ConsultationKind.VIDEO, 30, 1000 + 250 * n)],
        )


def read_snapshot(stack: Stack) -> dict:
    """What the invariants need from the processes' database."""
    path = stack.var_dir / "soak-snapshot.json"
    code = f"from e2e.soak import write_snapshot; write_snapshot({str(path)!r})"
    stack.manage("shell", "-c", code, log="soak-snapshot")
    return json.loads(path.read_text())


def write_snapshot(path: str) -> None:
    """Runs inside ``manage.py shell``: payments, bookings, key events."""
    from pathlib import Path

    from bookings.models import Booking
    from django.core.serializers.json import DjangoJSONEncoder
    from payments.models import Payment, PaymentEvent

    kind = PaymentEvent.Kind
    events = PaymentEvent.objects.order_by("id")
    data = {
        "payments": list(
            Payment.objects.order_by("id").values(
                "id",
                "booking_id",
                "amount",
                "phone_number",
                "status",
                "checkout_request_id",
                "mpesa_receipt_number",
                "paid_amount",
            )
        ),
        "bookings": list(Booking.objects.values("id", "status", "payment_status")),
        "completions": list(
            events.filter(kind=kind.STATUS_CHANGE, to_status="completed").values_list(
                "payment_id", flat=True
            )
        ),
        "callbacks": list(
            events.filter(kind=kind.CALLBACK).values(
                "id", "payment_id", "checkout_request_id", "request_body", "error"
            )
        ),
        "unknown_outcome": list(
            events.filter(
                kind=kind.NOTE, reason__startswith="push outcome unknown"
            ).values_list("payment_id", flat=True)
        ),
    }
    Path(path).write_text(json.dumps(data, cls=DjangoJSONEncoder))


def run_query_pending(stack: Stack, round_number: int) -> dict:
    """``manage.py query_pending --older-than 0 --json``; its summary."""
    output = stack.log_dir / f"query_pending-{round_number}.json"
    stack.manage(
        "query_pending",
        "--older-than",
        "0",
        "--json",
        log=f"query_pending-{round_number}",
        output=output,
    )
    return json.loads(output.read_text())["summary"]


# --- the API -----------------------------------------------------------------


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


def book_and_pay(session: requests.Session, base: str, slot: Slot, run: Run) -> Run:
    """Book ``slot``, then push until accepted, unknown, or MAX_PUSHES."""
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
        return run
    run.booking_id, run.amount = answer.json()["booking_id"], answer.json()["amount"]
    for _ in range(MAX_PUSHES * 4):  # waits for retry_too_soon do not count
        attempt = _push(session, base, run)
        if attempt is None:
            continue
        run.attempts.append(attempt)
        if attempt["status_after"] != "failed" or len(run.attempts) >= MAX_PUSHES:
            break
    return run


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


def drive(
    base: str, sessions: list[requests.Session], slots: list[Slot], threads: int
) -> list[Run]:
    """Book and pay every slot, ``threads`` bookings in flight at once."""
    runs = [Run(index=i, phone=phone_for(i)) for i in range(len(slots))]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [
            pool.submit(book_and_pay, sessions[i % len(sessions)], base, slot, runs[i])
            for i, slot in enumerate(slots)
        ]
        for future in futures:
            future.result()
    return runs


# --- waiting -----------------------------------------------------------------


def wait_until(check: Callable[[], bool], *, timeout: float, what: str) -> float:
    """Poll ``check`` every half second; return the seconds it took."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not done in {timeout:.0f} s: {what}")
        time.sleep(0.5)
    return time.monotonic() - started


def only_late_callbacks_left(stack: Stack) -> bool:
    """Every prompt decided and every callback sent but the late ones
    (a late callback's duplicate is late too)."""
    ledger = stack.simulator("GET", "ledger")
    if ledger["processing"]:
        return False
    late = {
        p["CheckoutRequestID"]
        for p in ledger["payments"]
        if "late_callback" in p["faults"]
    }
    return not [
        c
        for c in stack.simulator("GET", "callbacks")["callbacks"]
        if c["state"] == "scheduled" and c["CheckoutRequestID"] not in late
    ]


def all_callbacks_sent(stack: Stack) -> bool:
    ledger = stack.simulator("GET", "ledger?payments=0")
    return ledger["processing"] == 0 and ledger["pending_callbacks"] == 0


class Stopwatch:
    """Named phase durations in seconds, in order."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self._started = time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.phases[name] = round(now - self._started, 1)
        self._started = now
