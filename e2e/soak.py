"""The fault-injection soak (issue 8, item 6): its settings and its clock.

``test_soak.py`` states the invariants; the work is split by purpose:

- ``soak.py`` (this module): the run's sizes, timings and fault rules
  (``SoakConfig``), and waiting for the simulator to go quiet.
- ``soak_db.py``: seeds clients and advocates in the processes' database,
  runs ``query_pending`` and reads back the app's rows. The rows are read by
  ``manage.py shell`` with the processes' environment, so SQLite and
  PostgreSQL are read the same way.
- ``soak_drive.py``: books and pays through the HTTP API while the simulator
  injects faults.
- ``soak_paybill.py``: the bookings paid by Paybill instead of STK (which,
  and what the client types), registering our C2B URLs, the simulator's
  ``/simulator/c2b/pay``.
- ``soak_checks.py``: the app's rows against the simulator's ledger; every
  invariant's violations.
- ``soak_ledger.py``: the receipts ledger's invariants and the money
  equation (the simulator's takings against the ledger, the receipts still
  pending and the money in review).
- ``soak_refunds.py``: the bookings cancelled once paid (early and late
  for the full-refund policy), the Finance user approving the automatic
  refunds through the staff API, the Reversal faults, waiting for them to
  settle; ``soak_money_out.py``: the money-out invariants.
- ``soak_report.py``: the counts the test prints and keeps as JSON.
"""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from e2e.stack import Stack

NAIROBI = ZoneInfo("Africa/Nairobi")
# The full-refund policy of the soak's processes falls on tomorrow at this
# hour (Nairobi): a cancelled booking starting before it is "late", one
# starting later "early" (soak_refunds.cancel_plan picks both).
POLICY_HOUR = 9
# Money-out faults on the Reversal endpoint (docs/simulator.md, "Money
# out"), tried in order, each a draw of the seeded generator. The
# simulator draws queue_timeout twice (deciding, then delivering), so its
# share is about twice the figure.
REVERSAL_FAULTS = (
    {"fault": "queue_timeout", "probability": 0.05},
    {"fault": "queue_timeout", "processed": False, "probability": 0.03},
    {"fault": "no_result", "probability": 0.08},
    {"fault": "duplicate_result", "probability": 0.08},
    {"fault": "delayed_result", "delay": 2, "probability": 0.05},
    {"fault": "insufficient_balance", "probability": 0.03},
)


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
    # Paybill (issue 13): the share of bookings paid by hand through the
    # simulator's /simulator/c2b/pay instead of STK; the share of the run
    # (its last bookings) with c2b_double_notification on, so every STK
    # success also reaches our C2B confirmation URL; the API version of the
    # registered C2B URLs: v1 (hashed MSISDN), v2 (masked) or alternate
    # (v1 and v2 in turn, re-registered at each quarter of the run).
    paybill_share: float = 0.15
    double_notification: float = 0.5
    c2b_version: str = "v2"
    # Refunds (issue 14): the share of bookings their client cancels once
    # paid; how long a submitted refund waits for its result before
    # query_pending marks it unknown and asks Transaction Status.
    cancel_share: float = 0.1
    result_wait: int = 3

    @classmethod
    def from_env(cls) -> "SoakConfig":
        env = os.environ.get
        version = env("SOAK_C2B_VERSION", "v2")
        if version not in C2B_VERSIONS:
            raise ValueError(f"SOAK_C2B_VERSION must be one of {C2B_VERSIONS}")
        return cls(
            bookings=int(env("SOAK_BOOKINGS", "60")),
            seed=int(env("SOAK_SEED", "8")),
            concurrency=int(env("SOAK_CONCURRENCY", "8")),
            paybill_share=_share(env("SOAK_PAYBILL_SHARE", "0.15")),
            double_notification=_share(env("SOAK_DOUBLE_NOTIFICATION", "0.5")),
            c2b_version=version,
            cancel_share=_share(env("SOAK_CANCEL_SHARE", "0.1")),
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
            # Refunds: beat requests them every second; the refunds sweep
            # is beat's reconcile interval (pushed beyond the run), so
            # query_pending is what asks about the silent ones.
            "REFUND_AUTOMATIC_INTERVAL_SECONDS": "1",
            "REFUND_FULL_IF_CANCELLED_HOURS_BEFORE": str(policy_hours()),
            "MPESA_RESULT_WAIT_SECONDS": str(self.result_wait),
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
                *({**rule, "endpoint": "reversal"} for rule in REVERSAL_FAULTS),
            ],
        }


C2B_VERSIONS = ("v1", "v2", "alternate")


def policy_hours(now: datetime | None = None) -> int:
    """``REFUND_FULL_IF_CANCELLED_HOURS_BEFORE`` for a run starting ``now``:
    whole hours from now to tomorrow's ``POLICY_HOUR`` in Nairobi."""
    now = (now or datetime.now(NAIROBI)).astimezone(NAIROBI)
    day = now.date() + timedelta(days=1)
    split = datetime(day.year, day.month, day.day, POLICY_HOUR, tzinfo=NAIROBI)
    return max(1, (split - now) // timedelta(hours=1))


def _share(text: str) -> float:
    share = float(text)
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"a share is between 0 and 1, not {text}")
    return share


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
    """No prompt undecided and no callback still to send, late ones too,
    and every double notification (C2B confirmation of an STK payment)
    answered."""
    ledger = stack.simulator("GET", "ledger?payments=0")
    if ledger["processing"] or ledger["pending_callbacks"]:
        return False
    notices = stack.simulator("GET", "c2b")["double_notifications"]
    return all(n["notifications"] for n in notices)


class Stopwatch:
    """Named phase durations in seconds, in order."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self._started = time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.phases[name] = round(now - self._started, 1)
        self._started = now
