"""Reversal, B2C and Transaction Status: acknowledge, decide, post the
result to ``ResultURL`` after ``result_delay`` (or a notice to
``QueueTimeOutURL``, or nothing, under faults).

Money is decided when a request is accepted, under one lock, so a receipt
is never reversed twice and a B2C never pays more than its balance. A
second Reversal or B2C with an OriginatorConversationID already seen is
answered with the first one's acknowledgement (same ConversationID) and
moves nothing and posts nothing new (docs/simulator.md, "Money out").
"""

import logging
import threading
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import requests

from . import initiator_results as results
from .credential import credential_matches
from .errors import GENERIC_500, DarajaError
from .identifiers import nairobi_now
from .initiator_checks import InitiatorCall, check_b2c, check_reversal, check_status
from .messages import Response, json_response
from .money_out import InitiatorRequest
from .scheduler import Scheduler
from .state import SimulatorState
from .status_lookup import lookup_transaction

logger = logging.getLogger(__name__)
_HEADERS = {"Content-Type": "application/json", "User-Agent": "DarajaSimulator/1.0"}
_KEEP_RESPONSE_CHARS = 2000
DEFAULT_RESULT_DELAY_FAULT = 30.0


class InitiatorApi:
    """The three initiator endpoints, over the shared state."""

    def __init__(self, state: SimulatorState, scheduler: Scheduler) -> None:
        self._state = state
        self._scheduler = scheduler
        self._lock = threading.Lock()

    def reversal(self, body: dict[str, Any]) -> Response:
        """``POST /mpesa/reversal/v1/request``."""
        call = check_reversal(body, forbid_keywords=self._forbid())
        return self._money(call, self._decide_reversal)

    def b2c(self, body: dict[str, Any]) -> Response:
        """``POST /mpesa/b2c/v3/paymentrequest``."""
        call = check_b2c(body, forbid_keywords=self._forbid())
        return self._money(call, self._decide_b2c)

    def transaction_status(self, body: dict[str, Any]) -> Response:
        """``POST /mpesa/transactionstatus/v1/query`` (moves no money)."""
        call = check_status(body, forbid_keywords=self._forbid())
        request = self._request(call)
        if self._credential_refused(call, self._state.config.initiator_password):
            _fail(request, results.WRONG_CREDENTIAL)
        else:
            self._decide_status(call, request)
        self._state.money_out.add(request)
        self._deliver_later(request)
        return json_response(200, results.ack_body(request))

    # --- money ------------------------------------------------------------

    def _money(self, call: InitiatorCall, decide: Any) -> Response:
        faults = self._state.faults
        if faults.take("duplicate_originator", phone=call.phone, endpoint=call.kind):
            raise DarajaError(500, GENERIC_500, results.DUPLICATE_MESSAGE)
        book = self._state.money_out
        with self._lock:
            earlier = book.previous(call.kind, call.originator_conversation_id)
            if earlier is not None and call.originator_conversation_id:
                logger.info(
                    "%s %s repeated: nothing moved", call.kind, earlier.conversation_id
                )
                return json_response(200, results.ack_body(earlier))
            request = self._request(call)
            decide(call, request)
            book.add(request)
        self._deliver_later(request)
        logger.info(
            "%s %s accepted: result %s, KES %s",
            call.kind,
            request.conversation_id,
            request.result_code,
            request.amount,
        )
        return json_response(200, results.ack_body(request))

    def _decide_reversal(self, call: InitiatorCall, request: InitiatorRequest) -> None:
        state = self._state
        request.original_receipt = call.transaction_id
        if self._credential_refused(call, state.config.initiator_password):
            _fail(request, results.WRONG_CREDENTIAL)
            return
        paid = state.paid_receipt(call.transaction_id)
        if paid is None:
            _fail(request, results.UNKNOWN_ORIGINAL)
            return
        request.phone = paid["phone"]
        if state.money_out.reversal_of(call.transaction_id) is not None:
            _fail(request, results.ALREADY_REVERSED)
        elif call.amount != paid["amount"]:
            _fail(request, results.AMOUNT_MISMATCH)
        elif self._fault(request, "insufficient_balance"):
            _fail(request, results.INSUFFICIENT_BALANCE)
        elif self._succeed(request):
            balance = state.ledger(with_payments=False)["net_balance"] - call.amount
            request.parameters = results.reversal_parameters(
                request, short_code=call.party, balance=balance, when=nairobi_now()
            )

    def _decide_b2c(self, call: InitiatorCall, request: InitiatorRequest) -> None:
        state = self._state
        request.phone = call.phone
        if self._credential_refused(call, state.config.b2c_initiator_password):
            _fail(request, results.WRONG_CREDENTIAL)
            return
        available = self._b2c_available()
        if call.amount > available or self._fault(request, "insufficient_balance"):
            _fail(request, results.INSUFFICIENT_BALANCE)
            return
        if not self._succeed(request):
            return
        request.parameters = results.b2c_parameters(
            request, balance=available - call.amount, when=nairobi_now()
        )

    def _succeed(self, request: InitiatorRequest) -> bool:
        """Move the money, unless a queue time-out drops the request."""
        if self._fault(request, "queue_timeout") and not (
            self._timeout_processed(request)
        ):
            _fail(request, results.QUEUE_TIMEOUT)
            return False
        request.result_code = 0
        request.result_desc = results.SUCCESS_DESC
        request.transaction_id = self._state.ids.receipt()
        return True

    def _b2c_available(self) -> int:
        out = self._state.money_out.totals()["b2c_amount"]
        return int(self._state.config.b2c_balance) - out

    # --- transaction status ----------------------------------------------

    def _decide_status(self, call: InitiatorCall, request: InitiatorRequest) -> None:
        found = lookup_transaction(self._state, call)
        if found is None:
            _fail(request, results.NOT_FOUND)
            return
        request.result_code = 0
        request.result_desc = results.SUCCESS_DESC
        request.transaction_id = found["receipt"]
        request.amount = found["amount"]
        request.parameters = results.status_parameters(request, found)

    # --- delivery ---------------------------------------------------------

    def _deliver_later(self, request: InitiatorRequest) -> None:
        book = self._state.money_out
        delay = float(self._state.config.result_delay)
        if self._fault(request, "no_result"):
            book.note_delivery(request, {"kind": "result", "state": "suppressed"})
            return
        rule = self._state.faults.take(
            "delayed_result", phone=request.phone or None, endpoint=request.kind
        )
        if rule is not None:
            request.faults.append("delayed_result")
            delay += float(rule.params.get("delay", DEFAULT_RESULT_DELAY_FAULT))
        timeout = "queue_timeout" in request.faults or self._fault(
            request, "queue_timeout"
        )
        url = request.queue_timeout_url if timeout else request.result_url
        body = results.result_body(request, timeout=timeout)
        kind = "timeout" if timeout else "result"
        copies = 2 if self._fault(request, "duplicate_result") else 1
        when = (nairobi_now() + timedelta(seconds=delay)).isoformat()
        for _ in range(copies):
            note = {"kind": kind, "state": "scheduled", "scheduled_for": when}
            book.note_delivery(request, note)
            self._scheduler.call_later(
                delay, lambda note=note: self._post(url, body, note)
            )

    def _post(self, url: str, body: dict[str, Any], note: dict[str, Any]) -> None:
        note["sent_at"] = nairobi_now().isoformat()
        try:
            response = requests.post(
                url,
                json=body,
                headers=_HEADERS,
                timeout=self._state.config.callback_timeout,
            )
        except requests.RequestException as exc:
            logger.warning(
                "result to %s failed: %s", urlsplit(url).netloc, type(exc).__name__
            )
            note.update(state="failed", error=type(exc).__name__)
            return
        note.update(
            state="delivered",
            http_status=response.status_code,
            response_body=response.text[:_KEEP_RESPONSE_CHARS],
        )

    # --- helpers ----------------------------------------------------------

    def _request(self, call: InitiatorCall) -> InitiatorRequest:
        ids = self._state.ids
        now = nairobi_now()
        return InitiatorRequest(
            kind=call.kind,
            originator_conversation_id=call.originator_conversation_id
            or ids.originator_conversation_id(),
            conversation_id=ids.conversation_id(now),
            result_url=call.result_url,
            queue_timeout_url=call.queue_timeout_url,
            created_at=now,
            amount=call.amount,
            phone=call.phone,
        )

    def _credential_refused(self, call: InitiatorCall, password: str) -> bool:
        if self._state.faults.take(
            "wrong_credential", phone=call.phone or None, endpoint=call.kind
        ):
            return True
        key_path = self._state.config.private_key_path
        return not credential_matches(call.credential, password, key_path=key_path)

    def _fault(self, request: InitiatorRequest, name: str) -> bool:
        """Whether fault ``name`` fires for ``request`` (noted on it)."""
        if name in request.faults:
            return True
        rule = self._state.faults.take(
            name, phone=request.phone or None, endpoint=request.kind
        )
        if rule is None:
            return False
        request.faults.append(name)
        if name == "queue_timeout" and rule.params.get("processed", True) is False:
            request.faults.append("not_processed")
        return True

    @staticmethod
    def _timeout_processed(request: InitiatorRequest) -> bool:
        return "not_processed" not in request.faults

    def _forbid(self) -> bool:
        return self._state.config.forbid_callback_keywords


def _fail(request: InitiatorRequest, outcome: tuple[int | str, str]) -> None:
    request.result_code, request.result_desc = outcome
    request.transaction_id = ""
    request.parameters = []
