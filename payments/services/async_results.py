"""Daraja's asynchronous answers (Reversal, B2C, Transaction Status), from
the view to the refund or status check, top to bottom.

``result_intake`` is the result and time-out views' one call:

1. parse the body (``parse_async_result``; never raises here: a malformed
   body is kept with its error) and find what it answers, a refund
   (``refund_results.refund_find_for_result``) or else a status check;
2. store it raw as a ``PaymentEvent`` (kind ``result`` or
   ``queue_timeout``), linked to what it answers, committed on its own; if
   the database cannot be reached, the disk spool keeps it and Daraja gets
   its acknowledgement (replayed by
   ``callbacks.payment_replay_spooled_callbacks``);
3. apply it once: ``refund_apply_result`` or
   ``status_checks.status_check_apply_result`` (a repeat is a no-op).

A result nothing matches yet is kept unlinked: it may have come before
``refund_record_acceptance`` committed the ids it names. The refunds sweep
routes such results again (``results_reroute_unmatched``) and notes each one
it matches, so it is applied once.
"""

import logging
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from django.db import InterfaceError, OperationalError
from django.db.models import Q

from payments.daraja.callbacks import MAX_ID_LENGTH, unstorable_text
from payments.daraja.exceptions import DarajaMalformedResult
from payments.daraja.results import parse_async_result
from payments.daraja.types import AsyncResult
from payments.exceptions import PaymentError
from payments.models import PaymentEvent, TransactionStatusCheck
from payments.services import spool
from payments.services.events import event_record, event_record_result
from payments.services.metrics import counted_intake
from payments.services.refund_results import (
    Disposition,
    refund_apply_result,
    refund_find_for_result,
)
from payments.services.status_checks import status_check_apply_result

logger = logging.getLogger(__name__)
CONNECTION_LOST = (OperationalError, InterfaceError)
Kind = PaymentEvent.Kind
# The note that says a kept result was matched later (its request_body
# names the result's event), so the sweep applies it once.
REMATCHED_OPERATION = "result_matched"
SPOOLED = "spooled"
FAILED_TO_APPLY = "failed_to_apply"


class ResultMalformed(PaymentError):
    status_code = 400
    code = "malformed_result"
    default_message = "The body is not a Daraja Result."


@dataclass(frozen=True, slots=True)
class ResultOutcome:
    """One stored result's event (None when spooled), what it answered and
    what became of it (a ``refund_results.Disposition`` value, ``spooled``
    or ``failed_to_apply``)."""

    event_id: int | None
    disposition: str
    refund_id: int | None = None
    status_check_id: int | None = None


@dataclass(frozen=True, slots=True)
class _Match:
    refund_id: int | None
    status_check_id: int | None


@counted_intake(
    lambda kwargs: "timeout" if kwargs["timeout"] else "result",
    disposition=lambda outcome: outcome.disposition,
    malformed=ResultMalformed,
)
def result_intake(
    *,
    raw_body: bytes,
    source_ip: str | None,
    headers: Mapping[str, str],
    timeout: bool,
) -> ResultOutcome:
    """Store a result (``timeout``: a queue time-out notice) raw, then
    apply it; spool it when the database cannot be reached.

    Raises ``ResultMalformed`` (stored, 400) for a body that is not a
    Daraja Result, and ``OSError`` when neither the database nor the disk
    can keep it.
    """
    try:
        return result_store_and_route(
            raw_body=raw_body, source_ip=source_ip, headers=headers, timeout=timeout
        )
    except CONNECTION_LOST:
        logger.exception("database unavailable: Daraja result spooled to disk")
        spool.spool_write(
            raw_body=raw_body,
            source_ip=source_ip,
            headers=headers,
            endpoint=spool.DARAJA_QUEUE_TIMEOUT if timeout else spool.DARAJA_RESULT,
        )
        return ResultOutcome(None, SPOOLED)


def result_store_and_route(
    *,
    raw_body: bytes,
    source_ip: str | None,
    headers: Mapping[str, str],
    timeout: bool,
) -> ResultOutcome:
    """Parse, store raw (committed on its own, linked to its refund or
    status check), then apply one result. Raises ``ResultMalformed`` after
    storing a malformed body, and the database's connection errors."""
    result, error = _parse(raw_body, timeout=timeout)
    match = result_match(result) if result is not None else _Match(None, None)
    event = event_record_result(
        kind=Kind.QUEUE_TIMEOUT if timeout else Kind.RESULT,
        raw_body=raw_body,
        source_ip=source_ip,
        headers=headers,
        refund_id=match.refund_id,
        status_check_id=match.status_check_id,
        error=f"malformed: {error}" if error else "",
    )
    if result is None:
        logger.warning("malformed Daraja result from %s: %s", source_ip, error)
        raise ResultMalformed()
    return _route(event.pk, result, match)


def result_match(result: AsyncResult) -> _Match:
    """The refund a result answers, else the status check (by our
    OriginatorConversationID or Daraja's ConversationID), else neither.
    An id no database column could hold (NUL, a lone surrogate, over 64
    characters) matches nothing."""
    result = replace(
        result,
        originator_conversation_id=_usable(result.originator_conversation_id),
        conversation_id=_usable(result.conversation_id),
    )
    if not (result.originator_conversation_id or result.conversation_id):
        return _Match(None, None)
    refund_id = refund_find_for_result(result)
    if refund_id is not None:
        return _Match(refund_id, None)
    return _Match(None, _status_check_for(result))


def results_reroute_unmatched(*, since: datetime, limit: int = 500) -> int:
    """Route again the results stored since ``since`` that matched nothing;
    returns how many now matched (each applied once, then noted)."""
    # Bodies are encrypted: the notes' event ids are read in Python.
    notes = PaymentEvent.objects.filter(
        kind=Kind.NOTE, operation=REMATCHED_OPERATION, created_at__gte=since
    ).values_list("request_body", flat=True)
    rematched = [
        body.get("event_id") for body in notes.iterator() if isinstance(body, dict)
    ]
    kept = (
        PaymentEvent.objects.filter(
            kind__in=(Kind.RESULT, Kind.QUEUE_TIMEOUT),
            refund__isnull=True,
            status_check__isnull=True,
            error="",
            created_at__gte=since,
        )
        .exclude(pk__in=[pk for pk in rematched if pk is not None])
        .order_by("-created_at", "-id")[:limit]  # early results are recent
    )
    matched = 0
    for event in kept:
        if _reroute(event):
            matched += 1
    return matched


def _reroute(event: PaymentEvent) -> bool:
    result, _ = _parse(
        event.raw_body.encode(), timeout=event.kind == Kind.QUEUE_TIMEOUT
    )
    if result is None:
        return False
    match = result_match(result)
    if match.refund_id is None and match.status_check_id is None:
        return False
    outcome = _route(event.pk, result, match)
    if outcome.disposition == FAILED_TO_APPLY:
        return False  # tried again by the next sweep
    event_record(
        kind=Kind.NOTE,
        operation=REMATCHED_OPERATION,
        refund_id=match.refund_id,
        status_check_id=match.status_check_id,
        request_body={"event_id": event.pk},
        reason=f"result event {event.pk}, kept unmatched, matched later: "
        f"{outcome.disposition}",
    )
    logger.info("kept result event %s matched later", event.pk)
    return True


def _route(event_id: int, result: AsyncResult, match: _Match) -> ResultOutcome:
    try:
        if match.refund_id is not None:
            disposition = refund_apply_result(
                refund_id=match.refund_id, result=result, event_id=event_id
            )
        elif match.status_check_id is not None:
            disposition = status_check_apply_result(
                check_id=match.status_check_id, result=result, event_id=event_id
            )
        else:
            logger.warning(
                "Daraja result %s / %s matches nothing yet: kept as event %s",
                result.originator_conversation_id,
                result.conversation_id,
                event_id,
            )
            disposition = Disposition.UNMATCHED
    except CONNECTION_LOST:
        raise
    except Exception:  # stored already: note it; the sweep resolves the refund
        logger.exception("applying Daraja result event %s failed", event_id)
        event_record(
            kind=Kind.NOTE,
            refund_id=match.refund_id,
            status_check_id=match.status_check_id,
            reason=f"applying result event {event_id} failed",
            error=traceback.format_exc()[-4000:],
        )
        disposition = FAILED_TO_APPLY
    return ResultOutcome(event_id, disposition, match.refund_id, match.status_check_id)


def _parse(raw_body: bytes, *, timeout: bool) -> tuple[AsyncResult | None, str]:
    try:
        return parse_async_result(raw_body, timeout=timeout), ""
    except DarajaMalformedResult as exc:
        return None, str(exc)[:500]


def _status_check_for(result: AsyncResult) -> int | None:
    match = Q(pk__in=[])
    ours = _uuid_or_none(result.originator_conversation_id)
    if ours is not None:
        match |= Q(originator_conversation_id=ours)
    if result.conversation_id:
        match |= Q(conversation_id=result.conversation_id)
    return (
        TransactionStatusCheck.objects.filter(match)
        .values_list("pk", flat=True)
        .first()
    )


def _usable(conversation_id: str) -> str:
    if len(conversation_id) > MAX_ID_LENGTH or unstorable_text(conversation_id):
        return ""
    return conversation_id


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None
