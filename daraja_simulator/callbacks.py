"""Deciding a push and POSTing Daraja's ``Body.stkCallback`` to our server.

Shape, as Daraja sends it: ``ResultCode`` a JSON number (a string only for
alphanumeric codes like ``SFC_IC0003``); ``CallbackMetadata`` only on
success, with ``Amount`` (a float like ``3000.0``, sometimes an int),
``MpesaReceiptNumber``, ``Balance`` with no ``Value`` key,
``TransactionDate`` (a number, YYYYMMDDHHMMSS Nairobi time) and
``PhoneNumber`` (a number). Daraja does not retry a failed delivery, and
neither does the simulator.
"""

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import requests

from .identifiers import mask_phone, nairobi_now
from .records import PushRecord
from .scheduler import Scheduler
from .state import SimulatorState

logger = logging.getLogger(__name__)
_HEADERS = {"Content-Type": "application/json", "User-Agent": "DarajaSimulator/1.0"}
_KEEP_RESPONSE_CHARS = 2000
_INT_AMOUNT_SHARE = 0.2


def callback_body(
    record: PushRecord, *, include_balance: bool, int_amount: bool = False
) -> dict[str, Any]:
    """The JSON Daraja POSTs to the CallBackURL for a decided push."""
    callback: dict[str, Any] = {
        "MerchantRequestID": record.merchant_request_id,
        "CheckoutRequestID": record.checkout_request_id,
        "ResultCode": record.outcome.result_code,
        "ResultDesc": record.outcome.result_desc,
    }
    if record.succeeded:
        items = _metadata_items(record, include_balance, int_amount)
        if "reorder_items" in record.faults:
            items.reverse()
        callback["CallbackMetadata"] = {"Item": items}
    return {"Body": {"stkCallback": callback}}


def _metadata_items(
    record: PushRecord, include_balance: bool, int_amount: bool
) -> list[dict[str, Any]]:
    paid = record.paid_amount or 0
    decided = record.decided_at or nairobi_now()
    items: list[dict[str, Any]] = [
        {"Name": "Amount", "Value": paid if int_amount else float(paid)},
        {"Name": "MpesaReceiptNumber", "Value": record.receipt},
    ]
    if include_balance:
        items.append({"Name": "Balance"})
    items += [
        {"Name": "TransactionDate", "Value": int(decided.strftime("%Y%m%d%H%M%S"))},
        {"Name": "PhoneNumber", "Value": int(record.request.phone)},
    ]
    return items


class CallbackSender:
    """Decides pushes when their time comes and delivers their callbacks."""

    def __init__(self, state: SimulatorState, scheduler: Scheduler) -> None:
        self._state = state
        self._scheduler = scheduler
        # Called with every push that ends in success (C2B double notice).
        self.on_success: Callable[[PushRecord], None] | None = None

    def schedule_decision(self, record: PushRecord) -> None:
        """Decide ``record`` after its outcome's delay."""
        checkout_id = record.checkout_request_id
        self._scheduler.call_later(
            record.outcome.delay, lambda: self.decide(checkout_id)
        )

    def decide(self, checkout_request_id: str) -> None:
        """Make the push final and send (or lose) its callback(s)."""
        record = self._state.decide(checkout_request_id)
        if record is None:
            return
        logger.info(
            "push %s for %s decided: %s",
            checkout_request_id,
            mask_phone(record.request.phone),
            record.outcome.result_code,
        )
        body = callback_body(
            record,
            include_balance=self._state.config.include_balance_item,
            int_amount=self._state.ids.uniform() < _INT_AMOUNT_SHARE,
        )
        self._plan(record, body)
        if record.succeeded and self.on_success is not None:
            self.on_success(record)

    def _plan(self, record: PushRecord, body: dict[str, Any]) -> None:
        faults = record.faults
        now = nairobi_now()
        if "lost_callback" in faults:
            self._state.add_callback(record, "lost", body, "suppressed", now)
            logger.info("callback for %s lost on purpose", record.checkout_request_id)
            return
        delay = 0.0
        kind = "first"
        if "late_callback" in faults:
            rule = faults["late_callback"]
            delay = float(
                rule.params.get("delay", self._state.config.late_callback_delay)
            )
            kind = "late"
        self._queue(record, body, kind, delay)
        if "duplicate_callback" in faults:
            gap = float(faults["duplicate_callback"].params.get("gap", 0.0))
            self._queue(record, body, "duplicate", delay + gap)

    def _queue(
        self, record: PushRecord, body: dict[str, Any], kind: str, delay: float
    ) -> None:
        when = nairobi_now() + timedelta(seconds=delay)
        callback = self._state.add_callback(record, kind, body, "scheduled", when)
        target = record.request.callback_url
        self._scheduler.call_later(
            delay, lambda: self.deliver(callback.id, target, body)
        )

    def deliver(self, callback_id: int, target: str, body: dict[str, Any]) -> None:
        """POST one callback and record our server's answer."""
        timeout = self._state.config.callback_timeout
        started = nairobi_now()
        try:
            response = requests.post(
                target, json=body, headers=_HEADERS, timeout=timeout
            )
        except requests.RequestException as exc:
            # The path may hold our callback secret: log the host only.
            logger.warning(
                "callback %s to %s failed: %s",
                callback_id,
                urlsplit(target).netloc,
                type(exc).__name__,
            )
            self._state.finish_callback(
                callback_id, state="failed", sent_at=started, error=str(exc)
            )
            return
        logger.info("callback %s answered %s", callback_id, response.status_code)
        self._state.finish_callback(
            callback_id,
            state="delivered",
            sent_at=started,
            http_status=response.status_code,
            response_body=response.text[:_KEEP_RESPONSE_CHARS],
        )
