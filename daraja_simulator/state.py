"""All mutable state of one simulator, behind one lock.

Tokens, open prompts (the subscriber lock), pushes and their outcomes,
the request log, the callback log and the ledger of money that moved.
"""

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .c2b import COMPLETED, C2BBook
from .config import SimulatorConfig
from .errors import LOCK_SUBSCRIBER_MESSAGE, server_error
from .faults import FaultBook, FaultRule
from .identifiers import IdentifierFactory, nairobi_now
from .money_out import MoneyOutBook
from .outcomes import Outcome, ScenarioBook
from .pull import PullBook
from .records import FINAL, CallbackRecord, PushRecord
from .validation import PushRequest

PushPlan = Callable[[], tuple[Outcome, dict[str, FaultRule]]]


class SimulatorState:
    """Thread-safe state; every public method takes the lock."""

    def __init__(self, config: SimulatorConfig) -> None:
        self._lock = threading.RLock()
        self.config = config
        self.ids = IdentifierFactory(config.seed)
        self.scenarios = ScenarioBook()
        self.faults = FaultBook(self.ids.uniform)
        self._tokens: dict[str, float] = {}
        self._pushes: dict[str, PushRecord] = {}
        self._open_prompts: dict[str, str] = {}
        self._requests: deque[dict[str, Any]] = deque(maxlen=config.log_limit)
        self._request_ids = itertools.count(1)
        self._callbacks: dict[int, CallbackRecord] = {}
        self._callback_ids = itertools.count(1)
        self.c2b = C2BBook()
        self.money_out = MoneyOutBook()
        self.pull = PullBook()

    # --- configuration ----------------------------------------------------

    def update_config(self, changes: dict[str, Any]) -> SimulatorConfig:
        """Apply runtime changes; ValueError on unknown or bad values."""
        with self._lock:
            self.config = self.config.updated(changes)
            return self.config

    def reset(self, *, tokens: bool = False, c2b_urls: bool = False) -> None:
        """Forget pushes, logs, scenarios, faults and paybill payments (and
        tokens, and registered C2B URLs and Pull registrations, if asked)."""
        self.c2b.clear(registrations=c2b_urls)
        self.money_out.clear()
        if c2b_urls:
            self.pull.clear()
        with self._lock:
            self._pushes.clear()
            self._open_prompts.clear()
            self._requests.clear()
            self._callbacks.clear()
            self.scenarios.clear()
            self.faults.clear()
            if tokens:
                self._tokens.clear()

    # --- OAuth ------------------------------------------------------------

    def issue_token(self) -> str:
        """A new access token; by default it invalidates the older ones."""
        token = self.ids.access_token()
        with self._lock:
            if self.config.invalidate_previous_tokens:
                self._tokens.clear()
            self._tokens[token] = time.monotonic() + self.config.token_lifetime
        return token

    def token_is_valid(self, token: str) -> bool:
        """Known, not superseded and not expired."""
        with self._lock:
            expires_at = self._tokens.get(token)
            return expires_at is not None and time.monotonic() < expires_at

    # --- pushes -----------------------------------------------------------

    def open_push(self, request: PushRequest, plan: PushPlan) -> PushRecord:
        """Record an accepted push and lock its subscriber.

        ``plan`` picks the outcome and callback faults; it runs only once
        the subscriber is locked, so a refused push consumes no scenario
        or fault. Raises DarajaError 500.001.1001 "Unable to lock
        subscriber" while another prompt is open on the same phone.
        """
        now = nairobi_now()
        with self._lock:
            busy = self._open_prompts.get(request.phone)
            if busy is not None and self.config.lock_subscriber:
                raise server_error(LOCK_SUBSCRIBER_MESSAGE)
            outcome, faults = plan()
            record = PushRecord(
                checkout_request_id=self.ids.checkout_request_id(request.phone, now),
                merchant_request_id=self.ids.merchant_request_id(),
                request=request,
                outcome=outcome,
                faults=faults,
                created_at=now,
            )
            self._pushes[record.checkout_request_id] = record
            self._open_prompts[request.phone] = record.checkout_request_id
            return record

    def decide(self, checkout_request_id: str) -> PushRecord | None:
        """Make a push final: unlock the phone, move money on success."""
        with self._lock:
            record = self._pushes.get(checkout_request_id)
            if record is None or record.status == FINAL:
                return None
            record.status = FINAL
            record.decided_at = nairobi_now()
            if record.succeeded:
                record.paid_amount = record.paid_amount_for()
                record.receipt = self.ids.receipt()
            phone = record.request.phone
            if self._open_prompts.get(phone) == checkout_request_id:
                del self._open_prompts[phone]
            return record

    def paid_pushes(self) -> list[PushRecord]:
        """Every push that moved money (whatever became of its callback)."""
        with self._lock:
            return [push for push in self._pushes.values() if push.succeeded]

    def find_push(self, checkout_request_id: str) -> PushRecord | None:
        """The push with this CheckoutRequestID, if any."""
        with self._lock:
            return self._pushes.get(checkout_request_id)

    def paid_receipt(self, receipt: str) -> dict[str, Any] | None:
        """The money-in behind ``receipt``: a successful STK push or a
        completed paybill payment (channel, amount, phone, time), if any."""
        with self._lock:
            for push in self._pushes.values():
                if push.succeeded and push.receipt == receipt:
                    return {
                        "channel": "stk",
                        "amount": push.paid_amount or 0,
                        "phone": push.request.phone,
                        "short_code": push.request.party_b,
                        "when": push.decided_at,
                    }
        for payment in self.c2b.payments():
            if payment.status == COMPLETED and payment.trans_id == receipt:
                return {
                    "channel": "paybill",
                    "amount": payment.amount,
                    "phone": payment.phone,
                    "short_code": payment.short_code,
                    "when": payment.created_at,
                }
        return None

    # --- logs -------------------------------------------------------------

    def log_request(self, entry: dict[str, Any]) -> int:
        """Append a received request to the log; return its id."""
        with self._lock:
            entry["id"] = next(self._request_ids)
            self._requests.append(entry)
            return entry["id"]

    def requests(self, path: str | None = None, since: int = 0) -> list[dict]:
        """Logged requests, optionally for one path and after an id."""
        with self._lock:
            return [
                dict(entry)
                for entry in self._requests
                if entry["id"] > since and (path is None or entry["path"] == path)
            ]

    def add_callback(
        self, record: PushRecord, kind: str, body: dict, state: str, when: datetime
    ) -> CallbackRecord:
        """Register a callback (scheduled or suppressed) for a push."""
        with self._lock:
            callback = CallbackRecord(
                id=next(self._callback_ids),
                checkout_request_id=record.checkout_request_id,
                kind=kind,
                target=record.request.callback_url,
                body=body,
                state=state,
                scheduled_for=when,
            )
            self._callbacks[callback.id] = callback
            record.callback_ids.append(callback.id)
            return callback

    def finish_callback(self, callback_id: int, **fields: Any) -> None:
        """Store the outcome of a delivery attempt."""
        with self._lock:
            callback = self._callbacks.get(callback_id)
            if callback is None:
                return  # reset while the callback was in flight
            for name, value in fields.items():
                setattr(callback, name, value)

    def callbacks(self, since: int = 0) -> list[dict[str, Any]]:
        """Every callback sent, scheduled or suppressed, oldest first."""
        with self._lock:
            return [c.as_dict() for c in self._callbacks.values() if c.id > since]

    # --- ledger -----------------------------------------------------------

    def ledger(self, *, with_payments: bool = True) -> dict[str, Any]:
        """Money that moved, and the outcome of every push."""
        paybill = self.c2b.payments()
        with self._lock:
            pushes = list(self._pushes.values())
            states = [c.state for c in self._callbacks.values()]
            paid = [p for p in pushes if p.succeeded]
            paybill_paid = [p for p in paybill if p.status == COMPLETED]
            by_code: dict[str, int] = {}
            for push in pushes:
                if push.status == FINAL:
                    key = str(push.outcome.result_code)
                    by_code[key] = by_code.get(key, 0) + 1
            ledger = {
                "successful_count": len(paid),
                "successful_amount": sum(p.paid_amount or 0 for p in paid),
                "pushes": len(pushes),
                "processing": sum(1 for p in pushes if p.status != FINAL),
                "by_result_code": by_code,
                "callbacks": {s: states.count(s) for s in sorted(set(states))},
                "pending_callbacks": states.count("scheduled"),
                "paybill_payments": len(paybill),
                "paybill_successful_count": len(paybill_paid),
                "paybill_successful_amount": sum(p.amount for p in paybill_paid),
            }
            money_in = ledger["successful_amount"] + ledger["paybill_successful_amount"]
            ledger.update(self.money_out.totals())
            ledger["money_in_amount"] = money_in
            # What the organisation holds from what moved here: in minus out.
            ledger["net_balance"] = money_in - ledger["money_out_amount"]
            if with_payments:
                ledger["payments"] = [p.as_dict() for p in pushes] + [
                    p.as_dict() for p in paybill
                ]
            return ledger
