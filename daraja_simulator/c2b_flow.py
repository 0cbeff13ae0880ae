"""Running a paybill payment: validation (if on), then confirmation.

``POST /simulator/c2b/pay`` runs synchronously and answers what happened.
Validation that accepts (``ResultCode`` "0") or does not answer within
``c2b_validation_timeout`` under ResponseType Completed leads to the
confirmation; a rejection (``C2B000xx``), or no answer under Cancelled,
records the payment as rejected and sends no confirmation. The
``c2b_double_notification`` switch also sends a confirmation for every
successful STK push, with ``TransID`` equal to its receipt.
"""

import logging
from typing import Any
from urllib.parse import urlsplit

import requests

from .c2b import (
    COMPLETED,
    REJECTED,
    REJECTION_CODES,
    C2BBook,
    PaybillPayment,
    Registration,
    c2b_payload,
    check_pay,
)
from .identifiers import mask_phone, nairobi_now
from .records import PushRecord
from .scheduler import Scheduler
from .state import SimulatorState

logger = logging.getLogger(__name__)
_HEADERS = {"Content-Type": "application/json", "User-Agent": "DarajaSimulator/1.0"}
_KEEP_RESPONSE_CHARS = 2000
NO_ANSWER = "no_answer"


class C2BSender:
    """Posts validation and confirmation requests to registered URLs."""

    def __init__(self, state: SimulatorState, scheduler: Scheduler) -> None:
        self._state = state
        self._scheduler = scheduler

    @property
    def book(self) -> C2BBook:
        """The state's C2B book."""
        return self._state.c2b

    def pay(self, data: dict[str, Any]) -> dict[str, Any]:
        """Run one paybill payment; ValueError on a bad body or shortcode."""
        wanted = check_pay(data, self._state.config.short_code)
        registration = self.book.registration(wanted["short_code"])
        if registration is None:
            raise ValueError(f"no C2B URLs registered for {wanted['short_code']}")
        payment = PaybillPayment(
            trans_id=self._state.ids.receipt(),
            short_code=wanted["short_code"],
            phone=wanted["phone"],
            amount=wanted["amount"],
            account=wanted["account"],
            created_at=nairobi_now(),
        )
        self.book.add(payment)
        third_party_id = ""
        if self.book.validates(payment.short_code):
            accepted, third_party_id = self._validate(payment, registration)
            if not accepted:
                payment.status = REJECTED
                logger.info("paybill %s rejected", payment.trans_id)
                return payment.as_dict()
        self._confirm(payment, registration, third_party_id)
        logger.info(
            "paybill %s from %s, KES %s",
            payment.trans_id,
            mask_phone(payment.phone),
            payment.amount,
        )
        return payment.as_dict()

    def _validate(
        self, payment: PaybillPayment, registration: Registration
    ) -> tuple[bool, str]:
        """Ask the validation URL; (accepted, ThirdPartyTransID to echo)."""
        body = c2b_payload(payment, registration, payment.created_at)
        timeout = self._state.config.c2b_validation_timeout
        answer = self._post(
            "validation", payment, registration.validation_url, body, timeout
        )
        reply = _json_object(answer)
        code = str(reply.get("ResultCode", "")) if reply is not None else ""
        if code == "0":
            payment.validation = "accepted"
            return True, str(reply.get("ThirdPartyTransID") or "")
        if code in REJECTION_CODES:
            payment.validation = "rejected"
            payment.result_code = code
            return False, ""
        # No (usable) answer in time: the registered ResponseType applies.
        payment.validation = NO_ANSWER
        if registration.response_type == "Completed":
            return True, ""
        payment.result_code = NO_ANSWER
        return False, ""

    def _confirm(
        self, payment: PaybillPayment, registration: Registration, third_party_id: str
    ) -> None:
        balance = self.book.complete(payment)
        payment.result_code = "0"
        body = c2b_payload(
            payment,
            registration,
            nairobi_now(),
            balance=balance,
            third_party_id=third_party_id,
        )
        timeout = self._state.config.callback_timeout
        self._post(
            "confirmation", payment, registration.confirmation_url, body, timeout
        )

    def notify_stk_success(self, record: PushRecord) -> None:
        """Under ``c2b_double_notification``, confirm an STK payment too."""
        if not self._state.config.c2b_double_notification or not record.succeeded:
            return
        short_code = record.request.party_b
        registration = self.book.registration(short_code)
        if registration is None or record.receipt is None:
            return
        payment = PaybillPayment(
            trans_id=record.receipt,
            short_code=short_code,
            phone=record.request.phone,
            amount=record.paid_amount or record.request.amount,
            account=record.request.account_reference,
            created_at=record.decided_at or nairobi_now(),
            source="stk_double_notification",
        )
        self._scheduler.call_later(0.0, lambda: self._double(payment, registration))

    def _double(self, payment: PaybillPayment, registration: Registration) -> None:
        """Send the STK payment's confirmation, kept apart from the ledger."""
        payment.status = COMPLETED
        payment.result_code = "0"
        self.book.add_notice(payment)
        body = c2b_payload(payment, registration, payment.created_at)
        timeout = self._state.config.callback_timeout
        self._post(
            "confirmation", payment, registration.confirmation_url, body, timeout
        )

    def _post(
        self,
        kind: str,
        payment: PaybillPayment,
        url: str,
        body: dict[str, Any],
        timeout: float,
    ) -> requests.Response | None:
        """POST ``body``; note the attempt on the payment; None if no answer."""
        note: dict[str, Any] = {"kind": kind, "sent_at": nairobi_now().isoformat()}
        note["body"] = body
        try:
            response = requests.post(url, json=body, headers=_HEADERS, timeout=timeout)
        except requests.RequestException as exc:
            logger.warning(
                "c2b %s to %s failed: %s",
                kind,
                urlsplit(url).netloc,
                type(exc).__name__,
            )
            note.update(state="failed", error=type(exc).__name__)
            payment.notifications.append(note)
            return None
        note.update(
            state="delivered",
            http_status=response.status_code,
            response_body=response.text[:_KEEP_RESPONSE_CHARS],
        )
        payment.notifications.append(note)
        return response


def _json_object(response: requests.Response | None) -> dict[str, Any] | None:
    """A 200 answer's JSON object, else None."""
    if response is None or response.status_code != 200:
        return None
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
