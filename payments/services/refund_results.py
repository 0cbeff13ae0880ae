"""Applying M-Pesa's answer to a refund: its result, a queue time-out, or
what Transaction Status says.

Each runs in one transaction on locked rows (booking, receipt, refund)
and applies an answer once: a refund already completed or failed keeps
its outcome, and a repeated result only adds a note. A successful answer
records the refund's own receipt (``direction=out``), marks the original
receipt ``refunded`` once all of it has gone back, and moves the booking
to ``refunded``. A time-out is not an outcome: the refund becomes
``unknown`` and Transaction Status asks.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from bookings.models import Booking
from bookings.services import booking_mark_refunded
from payments.daraja.result_fields import b2c_fields, reversal_fields
from payments.daraja.types import AsyncResult
from payments.models import MpesaReceipt, MpesaReceiptSighting, PaymentEvent, Refund
from payments.services.events import event_record
from payments.services.ledger_out import receipt_mark_refunded, receipt_record_outgoing
from payments.services.refund_transitions import refund_lock, refund_move

logger = logging.getLogger(__name__)
Status = Refund.Status
# Reversal's "already reversed": the money went back, by this refund's
# earlier request or by hand (daraja.md section 6).
ALREADY_REVERSED = "R000001"


class Disposition:
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    TIMEOUT = "timeout"
    UNMATCHED = "unmatched"


@dataclass(frozen=True, slots=True)
class MoneyWentBack:
    """A proof that the refund's money moved: its receipt (may be empty for
    an "already reversed" answer) and when."""

    receipt_number: str
    transacted_at: datetime | None
    result_code: str
    result_description: str
    source: str
    # What the answer says was paid back, and how much (checked when given).
    original_receipt_number: str = ""
    amount: int | None = None


def refund_find_for_result(result: AsyncResult) -> int | None:
    """The refund a result or time-out notice belongs to, by our
    OriginatorConversationID, Daraja's, or its ConversationID."""
    match = Q(pk__in=[])
    ours = _uuid(result.originator_conversation_id)
    if ours is not None:
        match |= Q(originator_conversation_id=ours)
    if result.originator_conversation_id:
        match |= Q(daraja_originator_conversation_id=result.originator_conversation_id)
    if result.conversation_id:
        match |= Q(conversation_id=result.conversation_id)
    return Refund.objects.filter(match).values_list("pk", flat=True).first()


def refund_apply_result(*, refund_id: int, result: AsyncResult, event_id: int) -> str:
    """Apply a Reversal/B2C result or queue time-out notice (stored raw as
    event ``event_id``) to its refund; returns a ``Disposition``."""
    with transaction.atomic():
        refund = _locked(refund_id)
        if refund.status in (Status.COMPLETED, Status.FAILED):
            _note_late_answer(refund, result, event_id)
            return Disposition.DUPLICATE
        if refund.status == Status.APPROVED:
            # We believed it unsent, yet M-Pesa answers: it was sent.
            refund_move(refund, to=Status.SUBMITTED, reason="M-Pesa answered it")
        if _is_duplicate_answer(result):
            # About a second request with our id: the first one's outcome
            # stands, whatever it is (review finding F2).
            _leave_unknown(
                refund,
                f"M-Pesa (event {event_id}): {result.result_code} "
                f"{result.result_desc}: a repeated request; the first one's "
                "outcome stands",
            )
            return Disposition.DUPLICATE
        if result.is_timeout:
            refund_move(
                refund,
                to=Status.UNKNOWN,
                reason=f"queue time-out (event {event_id}): outcome unknown",
            )
            return Disposition.TIMEOUT
        if result.is_success or _already_reversed(refund, result):
            proof = _proof_of(refund, result)
            problem = _proof_problem(refund, proof)
            if problem:
                _leave_unknown(refund, f"M-Pesa (event {event_id}): {problem}")
                return Disposition.APPLIED
            _complete(refund, proof, event_id)
        else:
            refund_move(
                refund,
                to=Status.FAILED,
                reason=f"M-Pesa: {result.result_code} {result.result_desc}",
                result_code=result.result_code[:16],
                result_description=result.result_desc,
                resolved_at=timezone.now(),
            )
    return Disposition.APPLIED


def refund_apply_status_answer(
    *, refund_id: int, proof: MoneyWentBack | None, note: str, event_id: int
) -> str:
    """What Transaction Status said of the refund's request: ``proof`` when
    it completed; otherwise the refund stays as it is (a "not found" may
    be a queue still working), with ``note`` in its log."""
    with transaction.atomic():
        refund = _locked(refund_id)
        if refund.status in (Status.COMPLETED, Status.FAILED):
            return Disposition.DUPLICATE
        if proof is None:
            _note(refund, f"Transaction Status (event {event_id}): {note}")
            return Disposition.APPLIED
        if refund.status == Status.APPROVED:
            refund_move(refund, to=Status.SUBMITTED, reason="M-Pesa has it")
        problem = _proof_problem(refund, proof)
        if problem:
            _leave_unknown(refund, f"Transaction Status (event {event_id}): {problem}")
            return Disposition.APPLIED
        _complete(refund, proof, event_id)
    return Disposition.APPLIED


def _is_duplicate_answer(result: AsyncResult) -> bool:
    return "duplicate" in f"{result.result_code} {result.result_desc}".lower()


def _proof_problem(refund: Refund, proof: MoneyWentBack) -> str:
    """Why this answer does not prove the refund's own money went out
    (review finding F3), or "" when it does."""
    original = refund.receipt.receipt_number
    if proof.original_receipt_number and proof.original_receipt_number != original:
        return (
            f"it paid back {proof.original_receipt_number}, not {original}: "
            "outcome unknown"
        )
    if proof.amount is not None and proof.amount != refund.amount:
        return f"KES {proof.amount} moved, not KES {refund.amount}: outcome unknown"
    if not proof.receipt_number:
        return ""
    if proof.receipt_number == original:
        return f"it names the paid-back receipt {original} itself: outcome unknown"
    known = (
        MpesaReceipt.objects.filter(receipt_number=proof.receipt_number)
        .values_list("direction", "refund_sent")
        .first()
    )
    if known is None:
        return ""
    direction, owner = known
    if direction == MpesaReceipt.Direction.IN:
        return f"{proof.receipt_number} is money in: outcome unknown"
    if owner is not None and owner != refund.pk:
        return f"{proof.receipt_number} is refund {owner}'s: outcome unknown"
    return ""


def _leave_unknown(refund: Refund, reason: str) -> None:
    """Not an outcome: a sent refund becomes (or stays) ``unknown``, with
    the reason in its log, for Transaction Status and staff."""
    if refund.status == Status.SUBMITTED:
        refund_move(refund, to=Status.UNKNOWN, reason=reason)
    else:
        _note(refund, reason)
    logger.warning("refund %s: %s", refund.pk, reason)


def _note_late_answer(refund: Refund, result: AsyncResult, event_id: int) -> None:
    """An answer after the refund's outcome: kept; one that contradicts a
    failure (M-Pesa now says the money went) is an error for staff."""
    if refund.status == Status.FAILED and result.is_success:
        reason = (
            f"M-Pesa reports SUCCESS (event {event_id}, {result.transaction_id}) "
            "for this refund marked failed: the money may have gone back; "
            "check before refunding this receipt again"
        )
        logger.error("refund %s: %s", refund.pk, reason)
    else:
        reason = f"repeated answer (event {event_id}) ignored: {refund.status}"
    _note(refund, reason)


def _locked(refund_id: int) -> Refund:
    """Lock the refund's booking, its receipt, then the refund."""
    booking_id, receipt_id = Refund.objects.values_list("booking_id", "receipt_id").get(
        pk=refund_id
    )
    if booking_id is not None:
        Booking.objects.select_for_update().get(pk=booking_id)
    MpesaReceipt.objects.select_for_update().get(pk=receipt_id)
    return refund_lock(refund_id=refund_id)


def _proof_of(refund: Refund, result: AsyncResult) -> MoneyWentBack:
    original = ""
    if refund.method == Refund.Method.B2C:
        fields = b2c_fields(result)
        number, when = (
            fields.transaction_receipt or result.transaction_id,
            fields.completed_at,
        )
    else:
        fields = reversal_fields(result)
        number, when = fields.transaction_id, fields.completed_at
        original = fields.original_transaction_id
    if _already_reversed(refund, result):
        number = ""
    return MoneyWentBack(
        receipt_number=number.upper(),
        transacted_at=when,
        result_code=result.result_code,
        result_description=result.result_desc,
        source=MpesaReceiptSighting.Source.DARAJA_RESULT,
        original_receipt_number=original,
        amount=fields.amount,
    )


def _already_reversed(refund: Refund, result: AsyncResult) -> bool:
    """Reversal's R000001: the money already went back (B2C has no such
    code; a B2C result with it is a failure like any other)."""
    return (
        refund.method == Refund.Method.REVERSAL
        and result.result_code == ALREADY_REVERSED
    )


def _complete(refund: Refund, proof: MoneyWentBack, event_id: int) -> None:
    outgoing = None
    if proof.receipt_number:
        outgoing = receipt_record_outgoing(
            refund=refund,
            receipt_number=proof.receipt_number,
            transacted_at=proof.transacted_at,
            source=proof.source,
            event_id=event_id,
        )
    refund_move(
        refund,
        to=Status.COMPLETED,
        reason=(
            f"M-Pesa: money returned, receipt {proof.receipt_number}"
            if proof.receipt_number
            else f"M-Pesa: {proof.result_code} {proof.result_description}"
        ),
        result_code=proof.result_code[:16],
        result_description=proof.result_description,
        refund_receipt_number=proof.receipt_number,
        outgoing_receipt=outgoing,
        resolved_at=timezone.now(),
    )
    receipt = refund.receipt
    returned = receipt.refunds.filter(status=Status.COMPLETED).aggregate(
        total=Sum("amount")
    )["total"]
    if (returned or 0) >= receipt.amount:
        receipt_mark_refunded(receipt=receipt)
        booking = refund.booking
        if booking is not None and booking.payment_status == (
            Booking.PaymentStatus.REFUND_DUE
        ):
            booking_mark_refunded(booking_id=booking.pk)
    logger.info(
        "refund %s completed (KES %s, receipt %s)",
        refund.pk,
        refund.amount,
        proof.receipt_number or "-",
        extra={"refund_id": refund.pk},
    )


def _note(refund: Refund, reason: str) -> None:
    event_record(kind=PaymentEvent.Kind.NOTE, refund_id=refund.pk, reason=reason)


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None
