"""Stored reports of money that were never applied: ``reports_reapply_stored``.

Every C2B confirmation and STK callback is stored raw before it is applied
(``c2b.py``, ``callbacks.py``). When applying raised (not a lost
connection: that is spooled and replayed), or the body was refused by an
older parser (``TransAmount`` ``"3,000"``), the event is kept but its
money is not in the ledger. ``manage.py reapply_stored_reports`` and the
hourly beat task run this to apply them again, through the same services
as the intake.

Which events count as not applied (one query, then one check each):

- a ``c2b_confirmation`` whose ``TransID`` is not in ``MpesaReceipt``;
- a success ``callback`` with a receipt that is not in ``MpesaReceipt``
  (applied to its payment, or as an unknown-payment success), or that is
  there (its C2B copy came first) while its payment does not hold it, or,
  for a payment we never learned the id of, no STK callback reported it;
- a failure ``callback`` (or a success with no receipt) whose payment is
  still open: the intake would have settled it, so it was not applied.
  A failure for a settled or unknown payment has nothing to apply.

An event linked to a ledger sighting is applied and never looked at. Events
younger than ``SETTLE`` are left to the intake that is applying them.
Callbacks are skipped under ``MPESA_VERIFY_CALLBACKS`` (the verification's
STK query settles them; they are not trusted as they stand). Idempotent:
the ledger's receipt, or the payment no longer open, marks an event done.
A failure writes one note per event and distinct error, not one per run.
"""

import logging
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from payments.daraja.c2b import C2BRequest, parse_c2b_request
from payments.daraja.callbacks import StkCallback, parse_stk_callback
from payments.daraja.exceptions import CallbackParseError
from payments.models import MpesaReceiptSighting, PaymentEvent
from payments.services.c2b_allocation import c2b_apply_confirmation
from payments.services.callbacks import payment_apply_stk_callback
from payments.services.events import event_record
from payments.services.reapply_checks import (
    in_ledger,
    ledger_takes,
    payment_open,
    payment_would_learn,
)
from payments.services.reports import receipt_is_valid
from payments.services.unmatched import (
    UnknownCallbackOutcome,
    payment_match_unknown_callback,
)

logger = logging.getLogger(__name__)
Kind = PaymentEvent.Kind
# How far back a run looks when given no ``since``.
LOOKBACK = timedelta(days=7)
# An event this young may still be being applied by its intake.
SETTLE = timedelta(minutes=5)
CONNECTION_LOST = (OperationalError, InterfaceError)


@dataclass(slots=True)
class ReapplySummary:
    """What one run did. Each examined event is in exactly one count.

    ``applied``: applied now (with ``dry_run``: would be). ``unusable``:
    still no report the ledger can take (a body that does not parse, an
    amount that is not whole shillings, no receipt); ``errors`` and
    ``unusable`` name each such event's id with why.
    """

    dry_run: bool = False
    examined: int = 0
    applied: int = 0
    already_in_ledger: int = 0
    nothing_to_apply: int = 0
    skipped_verify: int = 0
    still_failing: int = 0
    errors: dict[int, str] = field(default_factory=dict)
    unusable: dict[int, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "examined": self.examined,
            "applied": self.applied,
            "already_in_ledger": self.already_in_ledger,
            "nothing_to_apply": self.nothing_to_apply,
            "skipped_verify": self.skipped_verify,
            "still_failing": self.still_failing,
            "unusable": len(self.unusable),
            "errors": {str(k): v for k, v in self.errors.items()},
            "unusable_events": {str(k): v for k, v in self.unusable.items()},
        }


class _Unusable(Exception):
    """The stored body is not a report the ledger can take."""


def reports_reapply_stored(
    *, since: datetime | None = None, dry_run: bool = False
) -> ReapplySummary:
    """Apply again each stored report whose money is not applied (see the
    module docstring), oldest first, each in its own transaction.

    ``since``: events stored from then (default: ``LOOKBACK`` ago).
    Side effects (none with ``dry_run``): what the intake's apply does (a
    receipt, a payment settled, a booking paid), one note per event
    applied, one note per event and distinct error. Raises the database's
    connection errors (the run stops; the next one goes on).
    """
    summary = ReapplySummary(dry_run=dry_run)
    for event_id in _unapplied_event_ids(since):
        _reapply_event(event_id, summary, dry_run=dry_run)
    logger.info("reapply stored reports: %s", summary.as_dict())
    return summary


def _unapplied_event_ids(since: datetime | None) -> list[int]:
    """Confirmations and callbacks from ``since`` no ledger sighting links."""
    now = timezone.now()
    sighted = MpesaReceiptSighting.objects.filter(event_id=OuterRef("pk"))
    events = PaymentEvent.objects.filter(
        kind__in=(Kind.C2B_CONFIRMATION, Kind.CALLBACK),
        created_at__gte=since or now - LOOKBACK,
        created_at__lte=now - SETTLE,
    ).exclude(Exists(sighted))
    return list(events.order_by("created_at", "id").values_list("pk", flat=True))


def _reapply_event(event_id: int, summary: ReapplySummary, *, dry_run: bool):
    """One event in one transaction: all it applies, or nothing."""
    try:
        with transaction.atomic():
            # Another run (beat and the command at once) that holds it
            # applies it; on SQLite, which does not lock rows, the services
            # are idempotent per receipt anyway.
            event = (
                PaymentEvent.objects.select_for_update(skip_locked=True)
                .filter(pk=event_id)
                .first()
            )
            if event is None:
                return
            summary.examined += 1
            if event.kind == Kind.C2B_CONFIRMATION:
                outcome = _confirmation(event, dry_run=dry_run)
            else:
                outcome = _callback(event, dry_run=dry_run)
    except _Unusable as exc:
        summary.unusable[event_id] = str(exc)
        return
    except CONNECTION_LOST:
        raise
    except Exception as exc:  # one event's failure never stops the run
        logger.exception("reapplying stored event %s failed", event_id)
        summary.still_failing += 1
        summary.errors[event_id] = f"{type(exc).__name__}: {exc}"[:500]
        if not dry_run:
            _note_failure(event_id, summary.errors[event_id])
        return
    setattr(summary, outcome, getattr(summary, outcome) + 1)


def _confirmation(event: PaymentEvent, *, dry_run: bool) -> str:
    request = _parsed_confirmation(event)
    if in_ledger(request.trans_id):
        return "already_in_ledger"
    if dry_run:
        return "applied"
    allocation = c2b_apply_confirmation(request=request, event_id=event.pk)
    _note_applied(
        event,
        f"TransID {request.trans_id}: {allocation.allocation} "
        f"{allocation.reason}".rstrip(),
    )
    return "applied"


def _parsed_confirmation(event: PaymentEvent) -> C2BRequest:
    body = event.request_body if event.request_body is not None else event.raw_body
    try:
        request = parse_c2b_request(body)
    except CallbackParseError as exc:
        raise _Unusable(f"not a C2B confirmation: {exc}") from exc
    amount = request.whole_amount
    if amount is None or amount < 1:
        # c2b_apply_confirmation would note it again on every run.
        raise _Unusable(
            f"TransID {request.trans_id}: amount {request.amount} is not a "
            "whole number of shillings; compare with the M-Pesa statement"
        )
    return request


def _callback(event: PaymentEvent, *, dry_run: bool) -> str:
    try:
        callback = parse_stk_callback(event.request_body)
    except CallbackParseError as exc:
        raise _Unusable(f"not an STK callback: {exc}") from exc
    receipt = callback.mpesa_receipt_number if callback.is_success else None
    if not receipt_is_valid(receipt):
        receipt = None
        if not payment_open(callback.checkout_request_id):
            return "nothing_to_apply"
    elif in_ledger(receipt) and not payment_would_learn(callback, receipt):
        return "already_in_ledger"
    elif not ledger_takes(callback.amount):
        # The settlement keeps such an amount out of the ledger: applied
        # again it would only note the same problem on every run.
        raise _Unusable(f"receipt {receipt}: amount {callback.amount} is unusable")
    if settings.MPESA_VERIFY_CALLBACKS:
        return "skipped_verify"
    if dry_run:
        return "applied"
    detail = _apply_callback(event, callback)
    if receipt is not None and not in_ledger(receipt):
        # Rolled back and noted once: it would be applied again every run.
        raise RuntimeError(f"applied ({detail}), but {receipt} is not in the ledger")
    _note_applied(event, detail)
    return "applied"


def _apply_callback(event: PaymentEvent, callback: StkCallback) -> str:
    """As the intake applies it (``callbacks._apply``): by its
    CheckoutRequestID, else as a success no payment has."""
    payment_id = payment_apply_stk_callback(callback=callback, event_id=event.pk)
    if payment_id is not None:
        return f"payment {payment_id}"
    if not callback.is_success:
        return "no payment"
    result = payment_match_unknown_callback(callback=callback, event_id=event.pk)
    if result.outcome == UnknownCallbackOutcome.KEPT:
        raise _Unusable("success callback with no usable receipt or amount")
    return f"unknown payment: {result.outcome}"


def _note_applied(event: PaymentEvent, detail: str) -> None:
    event_record(
        kind=Kind.NOTE,
        reason=f"stored {event.kind} event {event.pk} re-applied "
        f"(reapply_stored_reports): {detail}",
        checkout_request_id=event.checkout_request_id,
    )


def _note_failure(event_id: int, error: str) -> None:
    """One note per event and distinct error, however often it fails."""
    reason = f"re-applying stored event {event_id} failed: {error}"
    if PaymentEvent.objects.filter(kind=Kind.NOTE, reason=reason).exists():
        return
    event = PaymentEvent.objects.get(pk=event_id)
    event_record(
        kind=Kind.NOTE,
        reason=reason,
        error=traceback.format_exc()[-4000:],
        checkout_request_id=event.checkout_request_id,
    )
