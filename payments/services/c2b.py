"""Safaricom's C2B (Paybill) requests, from the view to the ledger.

``c2b_validation_intake`` and ``c2b_confirmation_intake`` are the views'
one call each. Both parse the body (``payments.daraja.c2b``; a malformed
body is kept with its error), store it raw as a ``PaymentEvent`` committed
on its own, then act on it:

- validation answers whether the payment may go ahead (no call to Daraja,
  no write but the event: Safaricom waits about 8 s for the answer);
- confirmation records the receipt in the ledger and, when the account
  number is a booking awaiting exactly that amount, pays the booking
  (``payments.services.c2b_allocation``). A confirmation that arrives
  while the database is down is spooled to disk like an STK callback and
  replayed by the same replay (``callbacks.payment_replay_spooled_callbacks``).
"""

import logging
import traceback
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import InterfaceError, OperationalError

from bookings.selectors import booking_find_by_reference, booking_would_take_payment
from core.money import format_kes
from payments.daraja.c2b import C2BRequest, parse_c2b_request
from payments.daraja.exceptions import CallbackParseError
from payments.exceptions import PaymentError
from payments.models import PaymentEvent
from payments.services import spool
from payments.services.c2b_allocation import C2BAllocation, c2b_apply_confirmation
from payments.services.events import event_record, event_record_c2b_request
from payments.services.metrics import (
    c2b_confirmation_disposition,
    c2b_validation_disposition,
    counted_intake,
)

logger = logging.getLogger(__name__)

# The database cannot be reached (as opposed to refusing a row).
CONNECTION_LOST = (OperationalError, InterfaceError)

# Validation answers (../shared/daraja.md section 10): "0" accepts; a
# C2B000xx code rejects, and Safaricom cancels the payment.
ACCEPT = {"ResultCode": "0", "ResultDesc": "Accepted"}
UNKNOWN_ACCOUNT = "C2B00012"
WRONG_AMOUNT = "C2B00013"
OTHER_ERROR = "C2B00016"


class C2BMalformed(PaymentError):
    status_code = 400
    code = "malformed_c2b_request"
    default_message = "The body is not a Daraja C2B confirmation."


@dataclass(frozen=True, slots=True)
class C2BOutcome:
    """What became of one confirmation: its event (None when spooled) and
    the ledger's allocation (None when spooled or not recordable)."""

    event_id: int | None
    allocation: C2BAllocation | None


@counted_intake(
    "c2b_validation", disposition=c2b_validation_disposition, malformed=C2BMalformed
)
def c2b_validation_intake(
    *, raw_body: bytes, source_ip: str | None, headers: Mapping[str, str]
) -> dict[str, str]:
    """Store a validation request raw, then answer it (the JSON body).

    A malformed body is stored and rejected with ``C2B00016``. Side
    effects: one event; the answer goes to the log (events are
    append-only, and a second row per request is not worth its cost).
    Raises the database's errors when it cannot store the request.
    """
    request, error = _parse(raw_body)
    event = event_record_c2b_request(
        kind=PaymentEvent.Kind.C2B_VALIDATION,
        raw_body=raw_body,
        source_ip=source_ip,
        headers=headers,
        reason=_summary(request),
        error=f"malformed: {error}" if error else "",
    )
    if request is None:
        answer = _reject(OTHER_ERROR, "Rejected: not a C2B validation request")
    else:
        answer = c2b_validation_answer(request=request)
    logger.info(
        "C2B validation event %s (%s): %s %s",
        event.pk,
        _summary(request) or "malformed",
        answer["ResultCode"],
        answer["ResultDesc"],
    )
    return answer


def c2b_validation_answer(*, request: C2BRequest) -> dict[str, str]:
    """Accept when the account number is a booking its money would pay
    (``booking_would_take_payment``) and the amount is exactly what it owes;
    otherwise reject with ``C2B00012`` (no such booking, or not payable) or
    ``C2B00013`` (another amount). ``MPESA_C2B_VALIDATE`` off: accept all
    but an amount below KES 1 (``C2B00013``). Reads only."""
    if request.amount < 1:
        # Never a payment, whatever the setting (nor a ledger row).
        return _reject(WRONG_AMOUNT, "Rejected: the amount must be at least KES 1")
    if not settings.MPESA_C2B_VALIDATE:
        return dict(ACCEPT)
    booking = booking_find_by_reference(typed=request.bill_ref_number)
    if booking is None:
        return _reject(UNKNOWN_ACCOUNT, "Rejected: unknown account number")
    if not booking_would_take_payment(booking):
        return _reject(
            UNKNOWN_ACCOUNT, "Rejected: this booking is not awaiting payment"
        )
    if request.whole_amount != booking.amount:
        owed = format_kes(booking.amount)
        return _reject(WRONG_AMOUNT, f"Rejected: wrong amount, {owed} is owed")
    return dict(ACCEPT)


@counted_intake(
    "c2b_confirmation",
    disposition=c2b_confirmation_disposition,
    malformed=C2BMalformed,
)
def c2b_confirmation_intake(
    *, raw_body: bytes, source_ip: str | None, headers: Mapping[str, str]
) -> C2BOutcome:
    """Store a confirmation raw, then record its money; spool it to disk
    if the database cannot be reached.

    Raises ``C2BMalformed`` (stored, 400) when the body is not a C2B
    request, and ``OSError`` when neither the database nor the disk can
    keep it.
    """
    try:
        return c2b_store_and_apply_confirmation(
            raw_body=raw_body, source_ip=source_ip, headers=headers
        )
    except CONNECTION_LOST:
        logger.exception("database unavailable: C2B confirmation spooled to disk")
        spool.spool_write(
            raw_body=raw_body,
            source_ip=source_ip,
            headers=headers,
            endpoint=spool.C2B_CONFIRMATION,
        )
        return C2BOutcome(None, None)


def c2b_store_and_apply_confirmation(
    *, raw_body: bytes, source_ip: str | None, headers: Mapping[str, str]
) -> C2BOutcome:
    """Parse, store raw (committed on its own), then apply one confirmation.

    Raises ``C2BMalformed`` after storing a body that is not a C2B
    request, and the database's errors.
    """
    request, error = _parse(raw_body)
    event = event_record_c2b_request(
        kind=PaymentEvent.Kind.C2B_CONFIRMATION,
        raw_body=raw_body,
        source_ip=source_ip,
        headers=headers,
        reason=_summary(request),
        error=f"malformed: {error}" if error else "",
    )
    if request is None:
        logger.warning("malformed C2B confirmation from %s: %s", source_ip, error)
        raise C2BMalformed()
    try:
        allocation = c2b_apply_confirmation(request=request, event_id=event.pk)
    except CONNECTION_LOST:
        raise  # spooled by the intake; the replay applies it
    except Exception:  # stored already: note it for staff, Safaricom gets its 200
        logger.exception("applying C2B confirmation event %s failed", event.pk)
        event_record(
            kind=PaymentEvent.Kind.NOTE,
            reason=f"applying C2B confirmation event {event.pk} failed "
            f"({_summary(request)}); apply it by hand",
            error=traceback.format_exc()[-4000:],
        )
        return C2BOutcome(event.pk, None)
    return C2BOutcome(event.pk, allocation)


def _parse(raw_body: bytes) -> tuple[C2BRequest | None, str]:
    try:
        return parse_c2b_request(raw_body), ""
    except CallbackParseError as exc:
        return None, str(exc)


def _summary(request: C2BRequest | None) -> str:
    """TransID, amount and account number, for the event and the log (never
    the MSISDN)."""
    if request is None:
        return ""
    return (
        f"TransID {request.trans_id}, KES {request.amount}, "
        f"BillRefNumber {request.bill_ref_number!r}"
    )


def _reject(code: str, description: str) -> dict[str, str]:
    return {"ResultCode": code, "ResultDesc": description}
