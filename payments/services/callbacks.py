"""Daraja's STK callback, from the view to the payment, top to bottom.

``payment_callback_intake`` is the callback view's one call:

1. parse the body (never raises: a malformed body is kept with its error);
2. store it raw as a ``PaymentEvent``, committed on its own, so nothing
   later can lose it; if the database cannot be reached, the disk spool
   (``payments.services.spool``) keeps it instead and Daraja gets its 200;
3. apply it to its payment through the transition owners in
   ``payments.services.settlement`` (or, with ``MPESA_VERIFY_CALLBACKS``,
   hand it to verification first).

Spooled callbacks come back through ``payment_replay_spooled_callbacks``,
which runs steps 1-3 for each file.
"""

import contextlib
import enum
import json
import logging
import traceback
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError

from payments.daraja.callbacks import StkCallback, parse_stk_callback
from payments.daraja.exceptions import CallbackParseError
from payments.exceptions import PaymentError
from payments.models import PaymentEvent
from payments.services import spool
from payments.services.async_results import ResultMalformed, result_store_and_route
from payments.services.c2b import C2BMalformed, c2b_store_and_apply_confirmation
from payments.services.events import event_record, event_record_callback
from payments.services.metrics import counted_intake
from payments.services.reports import success_report_from_callback
from payments.services.scheduling import schedule_callback_verification
from payments.services.settlement import (
    payment_record_failure,
    payment_record_success,
)
from payments.services.unmatched import (
    UnknownCallbackOutcome,
    payment_match_unknown_callback,
)

logger = logging.getLogger(__name__)

# Spooled callbacks replayed inside one live callback request, at most.
INLINE_REPLAY_LIMIT = 20
RESULT_ENDPOINTS = (spool.DARAJA_RESULT, spool.DARAJA_QUEUE_TIMEOUT)
# The database cannot be reached (as opposed to refusing a row).
CONNECTION_LOST = (OperationalError, InterfaceError)
# What a spool file can raise for its content when replayed: unreadable
# JSON or base64 (ValueError), missing or mistyped fields, a row the
# database refuses.
CONTENT_ERRORS = (ValueError, KeyError, TypeError, AttributeError, DatabaseError)


class CallbackMalformed(PaymentError):
    status_code = 400
    code = "malformed_callback"
    default_message = "The body is not a Daraja STK callback."


class CallbackDisposition(enum.StrEnum):
    """What became of one callback."""

    APPLIED = "applied"  # its payment was settled (or already was)
    MATCHED = "matched"  # no payment had its id; matched by phone, amount, time
    UNKNOWN = "unknown"  # no payment has its CheckoutRequestID (kept)
    DEFERRED = "deferred"  # waiting for an STK query to verify it
    FAILED_TO_APPLY = "failed_to_apply"  # stored; the sweep will settle it
    SPOOLED = "spooled"  # database unreachable: kept on local disk


@dataclass(frozen=True, slots=True)
class CallbackOutcome:
    """One callback's event (None when spooled), payment and disposition."""

    event_id: int | None
    payment_id: int | None
    disposition: CallbackDisposition


@dataclass(frozen=True, slots=True)
class _Parsed:
    callback: StkCallback | None
    error: str
    checkout_request_id: str


@counted_intake(
    "stk", disposition=lambda outcome: outcome.disposition, malformed=CallbackMalformed
)
def payment_callback_intake(
    *, raw_body: bytes, source_ip: str | None, headers: Mapping[str, str]
) -> CallbackOutcome:
    """Store the callback raw, then apply it; spool it if the database
    cannot be reached. Once one is stored, replay a few spooled ones.

    Raises ``CallbackMalformed`` (stored, 400) when the body is not an STK
    callback, and ``OSError`` when neither the database nor the disk can
    keep it.
    """
    try:
        outcome = payment_store_and_apply_callback(
            raw_body=raw_body, source_ip=source_ip, headers=headers
        )
    except CONNECTION_LOST:
        logger.exception("database unavailable: callback spooled to disk")
        spool.spool_write(raw_body=raw_body, source_ip=source_ip, headers=headers)
        return CallbackOutcome(None, None, CallbackDisposition.SPOOLED)
    if spool.spool_pending():
        # A small batch per request keeps Daraja's answer quick; the beat
        # task and the command take the rest.
        payment_replay_spooled_callbacks(limit=INLINE_REPLAY_LIMIT)
    return outcome


def payment_store_and_apply_callback(
    *, raw_body: bytes, source_ip: str | None, headers: Mapping[str, str]
) -> CallbackOutcome:
    """Parse, store raw (committed on its own), then apply one callback.

    Matching is by CheckoutRequestID; a success for an unknown id goes to
    ``payments.services.unmatched`` (matched by phone, amount and time to a
    push of unknown outcome, or unallocated money); a failure for one is
    kept with no payment. Raises ``CallbackMalformed`` after storing a
    body that is not an STK callback, and the database's errors.
    """
    parsed = _parse(raw_body)
    event = event_record_callback(
        raw_body=raw_body,
        source_ip=source_ip,
        headers=headers,
        checkout_request_id=parsed.checkout_request_id,
        error=f"malformed: {parsed.error}" if parsed.error else "",
    )
    if parsed.callback is None:
        logger.warning("malformed STK callback from %s: %s", source_ip, parsed.error)
        raise CallbackMalformed()
    if settings.MPESA_VERIFY_CALLBACKS:
        # Success or failure, no callback moves a payment unverified: a
        # forged 1032 must not fail a payment whose money moved.
        schedule_callback_verification(event_id=event.pk)
        return CallbackOutcome(event.pk, None, CallbackDisposition.DEFERRED)
    return _apply(event, parsed.callback)


def _parse(raw_body: bytes) -> _Parsed:
    try:
        payload = json.loads(raw_body)
    except (ValueError, RecursionError) as exc:
        return _Parsed(None, f"not JSON: {exc}", "")
    try:
        callback = parse_stk_callback(payload)
    except CallbackParseError as exc:
        return _Parsed(None, str(exc), _checkout_id_hint(payload))
    return _Parsed(callback, "", callback.checkout_request_id)


def _apply(event: PaymentEvent, callback: StkCallback) -> CallbackOutcome:
    try:
        payment_id = payment_apply_stk_callback(callback=callback, event_id=event.pk)
        if payment_id is None and callback.is_success:
            return _apply_unknown(event, callback)
    except Exception:  # stored already: note the failure, let reconciliation settle
        logger.exception("applying callback event %s failed", event.pk)
        event_record(
            kind=PaymentEvent.Kind.NOTE,
            reason=f"applying callback event {event.pk} failed",
            error=traceback.format_exc()[-4000:],
            checkout_request_id=callback.checkout_request_id,
        )
        return CallbackOutcome(event.pk, None, CallbackDisposition.FAILED_TO_APPLY)
    if payment_id is None:
        logger.warning(
            "STK callback for unknown CheckoutRequestID %s kept as event %s",
            callback.checkout_request_id,
            event.pk,
        )
        return CallbackOutcome(event.pk, None, CallbackDisposition.UNKNOWN)
    return CallbackOutcome(event.pk, payment_id, CallbackDisposition.APPLIED)


def _apply_unknown(event: PaymentEvent, callback: StkCallback) -> CallbackOutcome:
    """A success no payment has by its CheckoutRequestID: its money goes to
    the ledger, matched to a payment of unknown outcome when one fits."""
    result = payment_match_unknown_callback(callback=callback, event_id=event.pk)
    if result.outcome == UnknownCallbackOutcome.MATCHED:
        return CallbackOutcome(event.pk, result.payment_id, CallbackDisposition.MATCHED)
    if result.outcome == UnknownCallbackOutcome.APPLIED:
        return CallbackOutcome(event.pk, result.payment_id, CallbackDisposition.APPLIED)
    if result.outcome == UnknownCallbackOutcome.KEPT:  # unallocated: logged there
        logger.warning(
            "STK success callback for unknown CheckoutRequestID %s kept as "
            "event %s (no usable receipt or amount)",
            callback.checkout_request_id,
            event.pk,
        )
    return CallbackOutcome(event.pk, None, CallbackDisposition.UNKNOWN)


def payment_apply_stk_callback(
    *, callback: StkCallback, event_id: int | None = None
) -> int | None:
    """Settle the payment with the callback's CheckoutRequestID (idempotent).

    ``event_id``: the stored callback (its receipt's ledger sighting).
    Returns the payment's id, or None when no payment has that id.
    """
    if callback.is_success:
        change = payment_record_success(
            report=success_report_from_callback(callback, event_id=event_id),
            checkout_request_id=callback.checkout_request_id,
        )
    else:
        change = payment_record_failure(
            result_code=callback.result_code,
            result_desc=callback.result_desc,
            source="callback",
            checkout_request_id=callback.checkout_request_id,
        )
    return None if change is None else change.payment.pk


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
    payment_apply_stk_callback(callback=callback, event_id=event.pk)
    event_record(
        kind=PaymentEvent.Kind.NOTE,
        payment_id=payment_id,
        reason=f"callback event {event.pk} came before the push was recorded; "
        "applied now",
        checkout_request_id=callback.checkout_request_id,
    )


def payment_replay_spooled_callbacks(*, limit: int = 500) -> spool.SpoolReplay:
    """Store and apply spooled callbacks, oldest first.

    Each file is claimed by renaming it, so concurrent replays never apply
    one twice (and applying is idempotent anyway). A malformed callback is
    stored with its error, like a live one. A file that cannot be replayed
    for its content moves to the quarantine folder; a lost database
    connection stops the replay, leaving that file and the rest for later.
    """
    replayed = quarantined = 0
    for claimed in spool.spool_claim(limit=limit):
        try:
            record = claimed.read()
            endpoint = record.pop("endpoint")
            if endpoint == spool.C2B_CONFIRMATION:
                with contextlib.suppress(C2BMalformed):
                    c2b_store_and_apply_confirmation(**record)
            elif endpoint in RESULT_ENDPOINTS:
                timeout = endpoint == spool.DARAJA_QUEUE_TIMEOUT
                with contextlib.suppress(ResultMalformed):
                    result_store_and_route(**record, timeout=timeout)
            elif endpoint == spool.STK_CALLBACK:
                with contextlib.suppress(CallbackMalformed):
                    payment_store_and_apply_callback(**record)
            else:
                raise ValueError(f"spooled for an unknown endpoint {endpoint!r}")
        except CONNECTION_LOST:
            claimed.release()
            logger.warning("database still unavailable; %s stays spooled", claimed)
            break
        except CONTENT_ERRORS:
            claimed.quarantine()
            quarantined += 1
            continue
        claimed.done()
        replayed += 1
    left = spool.spool_count()
    if replayed or quarantined:
        logger.info(
            "spool: replayed %s, quarantined %s, left %s", replayed, quarantined, left
        )
    return spool.SpoolReplay(replayed=replayed, quarantined=quarantined, left=left)


def _checkout_id_hint(payload: object) -> str:
    """The CheckoutRequestID if the payload looks like a callback, else ''."""
    try:
        value = payload["Body"]["stkCallback"]["CheckoutRequestID"]
    except (KeyError, TypeError, IndexError):
        return ""
    if not isinstance(value, str) or "\x00" in value:
        return ""
    return value[:64]
