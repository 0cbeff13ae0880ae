"""Receiving Daraja's STK callback: store it raw first, then settle it."""

import json
import logging
import traceback
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from payments.daraja.callbacks import StkCallback, parse_stk_callback
from payments.daraja.exceptions import CallbackParseError
from payments.exceptions import PaymentError
from payments.models import Payment, PaymentEvent
from payments.services.events import (
    event_record,
    event_record_callback,
)
from payments.services.reports import SuccessReport
from payments.services.transitions import (
    receipt_held_elsewhere,
    settle_failure,
    settle_success,
)

logger = logging.getLogger(__name__)


class CallbackMalformed(PaymentError):
    status_code = 400
    code = "malformed_callback"
    default_message = "The body is not a Daraja STK callback."


@dataclass(frozen=True, slots=True)
class CallbackReceipt:
    """What happened to one callback: ``applied``, ``unknown`` or ``deferred``."""

    event_id: int
    payment_id: int | None
    disposition: str


def payment_receive_callback(
    *, raw_body: bytes, source_ip: str | None, headers: Mapping[str, str]
) -> CallbackReceipt:
    """Store the callback as an event, then apply it to its payment.

    Matching is by CheckoutRequestID only. A callback for an unknown id is
    kept (payment empty) and acknowledged. Raises ``CallbackMalformed``
    (after storing the body) when it is not an STK callback. The event is
    committed on its own first, so a failure later loses nothing.
    """
    payload, json_error = _load_json(raw_body)
    checkout_id = _checkout_id_hint(payload)
    stored = {"raw_body": raw_body, "source_ip": source_ip, "headers": headers}
    try:
        if json_error:
            raise CallbackParseError(json_error)
        callback = parse_stk_callback(payload)
    except CallbackParseError as exc:
        event_record_callback(
            **stored, checkout_request_id=checkout_id, error=f"malformed: {exc}"
        )
        logger.warning("malformed STK callback from %s: %s", source_ip, exc)
        raise CallbackMalformed() from exc
    event = event_record_callback(
        **stored, checkout_request_id=callback.checkout_request_id
    )
    if settings.MPESA_VERIFY_CALLBACKS:
        # A failure is checked like a success: a forged 1032 must not fail
        # a payment whose money moved (the client would pay again).
        from payments.tasks import payment_verify_callback_task

        transaction.on_commit(lambda: payment_verify_callback_task.delay(event.pk))
        return CallbackReceipt(event.pk, None, "deferred")
    try:
        payment_id = payment_apply_stk_callback(callback=callback)
    except Exception:  # stored already: note the failure, let reconciliation settle
        logger.exception("applying callback event %s failed", event.pk)
        event_record(
            kind=PaymentEvent.Kind.NOTE,
            reason=f"applying callback event {event.pk} failed",
            error=traceback.format_exc()[-4000:],
            checkout_request_id=callback.checkout_request_id,
        )
        return CallbackReceipt(event.pk, None, "error")
    if payment_id is None:
        logger.warning(
            "STK callback for unknown CheckoutRequestID %s kept as event %s",
            callback.checkout_request_id,
            event.pk,
        )
        return CallbackReceipt(event.pk, None, "unknown")
    return CallbackReceipt(event.pk, payment_id, "applied")


def payment_apply_stk_callback(*, callback: StkCallback) -> int | None:
    """Settle the payment with the callback's CheckoutRequestID (idempotent).

    Returns the payment's id, or None when no payment has that id.
    """
    with transaction.atomic():
        payment = _lock_by_checkout_id(callback)
        if payment is None:
            return None
        if callback.is_success:
            settle_success(
                payment,
                success_report_from_callback(callback),
                receipt_elsewhere=getattr(payment, "receipt_elsewhere", None),
            )
        else:
            settle_failure(
                payment,
                result_code=callback.result_code,
                result_desc=callback.result_desc,
                source="callback",
            )
    return payment.pk


def payment_apply_stored_callback(*, event: PaymentEvent, payment_id: int) -> None:
    """Apply a callback stored before its payment knew its CheckoutRequestID.

    Side effects: as ``payment_apply_stk_callback``, plus a note linking the
    stored event to the payment (events are append-only).
    """
    try:
        callback = parse_stk_callback(event.request_body)
    except CallbackParseError:
        return
    if settings.MPESA_VERIFY_CALLBACKS:
        # Not applied unverified: the reconciliation's query settles it and
        # takes this event's receipt (latest_success_callback finds it).
        return
    payment_apply_stk_callback(callback=callback)
    event_record(
        kind=PaymentEvent.Kind.NOTE,
        payment_id=payment_id,
        reason=f"callback event {event.pk} came before the push was recorded; "
        "applied now",
        checkout_request_id=callback.checkout_request_id,
    )


def _lock_by_checkout_id(callback: StkCallback) -> Payment | None:
    """Find and lock the payment in one statement, learning at the same
    time whether its receipt is already on another payment."""
    payments = Payment.objects.select_for_update(of=("self",))
    receipt = callback.mpesa_receipt_number
    if receipt:
        payments = payments.annotate(receipt_elsewhere=receipt_held_elsewhere(receipt))
    try:
        return payments.get(checkout_request_id=callback.checkout_request_id)
    except Payment.DoesNotExist:
        return None


def success_report_from_callback(
    callback: StkCallback, *, source: str = "callback"
) -> SuccessReport:
    """The money facts a success callback carries."""
    return SuccessReport(
        source=source,
        # A query that found this stored callback confirms the payment on
        # Daraja's word; the callback's own amount must still add up.
        requires_receipt=source in ("callback", "verified callback"),
        reports_amount=True,
        result_code=callback.result_code,
        result_desc=callback.result_desc,
        mpesa_receipt_number=callback.mpesa_receipt_number,
        paid_amount=callback.amount,
        amount_problem=callback.amount_problem,
        transaction_date=callback.transaction_date,
        paid_phone_number=callback.phone_number or "",
    )


def latest_success_callback(
    *, payment_id: int, checkout_request_id: str | None = None
) -> StkCallback | None:
    """The newest stored success callback for a payment, if any (also one
    stored unmatched, before the payment had its CheckoutRequestID)."""
    mine = Q(payment_id=payment_id)
    if checkout_request_id:
        mine |= Q(payment__isnull=True, checkout_request_id=checkout_request_id)
    events = PaymentEvent.objects.filter(
        mine, kind=PaymentEvent.Kind.CALLBACK, error=""
    ).order_by("-created_at", "-id")
    for event in events.iterator():
        try:
            callback = parse_stk_callback(event.request_body)
        except CallbackParseError:
            continue
        if callback.is_success:
            return callback
    return None


def _load_json(raw_body: bytes) -> tuple[object, str]:
    try:
        return json.loads(raw_body), ""
    except (ValueError, RecursionError) as exc:
        return None, f"not JSON: {exc}"


def _checkout_id_hint(payload: object) -> str:
    """The CheckoutRequestID if the payload looks like a callback, else ''."""
    try:
        value = payload["Body"]["stkCallback"]["CheckoutRequestID"]
    except (KeyError, TypeError, IndexError):
        return ""
    if not isinstance(value, str) or "\x00" in value:
        return ""
    return value[:64]
