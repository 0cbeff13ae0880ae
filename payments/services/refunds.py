"""Asking for money back, and deciding: request, approve, reject, cancel.

Each runs in one transaction on locked rows, in the project's lock order
(booking, then receipt, then refund), so two requests or approvals at once
can never hold more of a receipt than it brought in. Status changes go
through ``refund_transitions.refund_move``; the request itself is audited
with a ``staff_action`` event naming the actor.
"""

import logging

from django.db import transaction
from django.utils import timezone

from bookings.models import Booking
from core.money import format_kes
from payments.exceptions import (
    InvalidRefundTransition,
    RefundPermissionDenied,
    RefundRefused,
)
from payments.models import MpesaReceipt, PaymentEvent, Refund
from payments.services import refund_policy as policy
from payments.services.ledger_staff import (
    receipt_clear_refund_mark,
    receipt_mark_refund_requested,
)
from payments.services.refund_transitions import refund_lock, refund_move
from payments.services.scheduling import schedule_refund_submission
from payments.services.system_user import is_refund_system_user

logger = logging.getLogger(__name__)
Status = Refund.Status
STAFF_REFUND_REQUEST = "refund_request"


def refund_request(
    *,
    receipt_number: str,
    reason: str,
    actor,
    amount: object = None,
    reason_text: str = "",
    recipient_phone: str = "",
    only_if_first: bool = False,
) -> Refund | None:
    """Request a refund of ``amount`` KES (None: the whole receipt).

    A Reversal when the whole receipt goes back, B2C for part of it (when
    configured). Unallocated money is marked for refund so nobody
    allocates it meanwhile. ``only_if_first``: the automatic request,
    which does nothing (returns None) once the receipt has any refund.
    Raises ``RefundPermissionDenied`` and ``RefundRefused`` (nothing
    written).
    """
    policy.refund_assert_may_request(actor)
    wanted = policy.refund_clean_amount(amount)
    reason, reason_text = policy.refund_clean_reason(reason, reason_text)
    number = str(receipt_number or "").strip().upper()
    with transaction.atomic():
        booking, receipt = _booking_and_receipt_locked(number)
        if only_if_first and receipt.refunds.exists():
            return None
        policy.refund_assert_refundable(receipt)
        remaining = policy.refund_remaining(receipt)
        refund_amount = receipt.amount if wanted is None else wanted
        policy.refund_assert_fits(receipt, refund_amount, remaining)
        policy.refund_assert_booking_allows(booking, receipt, refund_amount, reason)
        method = policy.refund_method_for(receipt, refund_amount, remaining)
        recipient = (
            policy.refund_recipient(receipt, recipient_phone)
            if method == Refund.Method.B2C
            else ""
        )
        refund = Refund.objects.create(
            receipt=receipt,
            booking=booking,
            amount=refund_amount,
            method=method,
            reason=reason,
            reason_text=reason_text,
            recipient_phone=recipient,
            requested_by=actor,
        )
        if receipt.allocation == MpesaReceipt.Allocation.UNALLOCATED:
            receipt_mark_refund_requested(receipt=receipt, actor=actor)
        PaymentEvent.objects.create(
            kind=PaymentEvent.Kind.STAFF_ACTION,
            operation=STAFF_REFUND_REQUEST,
            refund=refund,
            actor=actor,
            reason=(
                f"Refund of {format_kes(refund_amount)} from receipt "
                f"{receipt.receipt_number} requested ({refund.get_reason_display()}"
                + (f": {reason_text}" if reason_text else "")
                + ")"
            ),
        )
    logger.info(
        "refund %s requested: KES %s of receipt %s by %s",
        refund.pk,
        refund_amount,
        receipt.receipt_number,
        method,
        extra={"refund_id": refund.pk, "receipt_id": receipt.pk},
    )
    return refund


def refund_approve(*, refund_id: int, actor, note: str = "") -> Refund:
    """The second person's yes: ``approved``; sent to M-Pesa once after
    commit (``refund_submission``).

    Re-checks, on the locked receipt, that the receipt still covers it.
    Raises ``RefundPermissionDenied`` (no permission, above the limit),
    ``RefundRefused`` (the requester), ``InvalidRefundTransition`` (not
    requested any more).
    """
    with transaction.atomic():
        refund = _refund_locked_with_receipt(refund_id)
        policy.refund_assert_may_decide(actor, refund)
        _assert_awaiting_approval(refund)
        remaining = policy.refund_remaining(refund.receipt, excluding=refund.pk)
        policy.refund_assert_fits(refund.receipt, refund.amount, remaining)
        refund_move(
            refund,
            to=Status.APPROVED,
            reason=_with_note("approved", note),
            actor=actor,
            approved_by=actor,
            approved_at=timezone.now(),
            decision_note=_note(note),
        )
        schedule_refund_submission(refund_id=refund.pk)
    return refund


def refund_reject(*, refund_id: int, actor, note: str) -> Refund:
    """The approver's no (a note saying why is required): ``rejected``;
    the receipt's amount is free again."""
    note = _note(note)
    if not note:
        raise RefundRefused("Say why the refund is rejected.", field="note")
    with transaction.atomic():
        refund = _refund_locked_with_receipt(refund_id)
        policy.refund_assert_may_decide(actor, refund)
        refund_move(
            refund,
            to=Status.REJECTED,
            reason=_with_note("rejected", note),
            actor=actor,
            rejected_by=actor,
            resolved_at=timezone.now(),
            decision_note=note,
        )
        _release_mark_if_unused(refund)
    return refund


def refund_cancel(*, refund_id: int, actor, note: str = "") -> Refund:
    """The requester withdraws a refund not yet approved: ``cancelled``.

    An automatic request (made by the system user) may be cancelled by
    anyone allowed to request refunds.
    """
    with transaction.atomic():
        refund = _refund_locked_with_receipt(refund_id)
        policy.refund_assert_may_request(actor)
        if refund.requested_by_id != actor.pk and not is_refund_system_user(
            refund.requested_by
        ):
            raise RefundPermissionDenied(
                "Only the person who requested a refund may cancel it; an "
                "approver may reject it."
            )
        refund_move(
            refund,
            to=Status.CANCELLED,
            reason=_with_note("cancelled", note),
            actor=actor,
            cancelled_by=actor,
            resolved_at=timezone.now(),
            decision_note=_note(note),
        )
        _release_mark_if_unused(refund)
    return refund


def _booking_and_receipt_locked(number: str) -> tuple[Booking | None, MpesaReceipt]:
    """Lock the receipt's booking, then the receipt (the lock order), and
    check the receipt still names that booking."""
    found = (
        MpesaReceipt.objects.filter(receipt_number=number)
        .values_list("pk", "booking_id", "payment__booking_id")
        .first()
    )
    if found is None:
        raise RefundRefused(
            f"No receipt {number or '(empty)'} in the ledger.", field="receipt_number"
        )
    receipt_id, booking_id, payment_booking_id = found
    booking_id = booking_id or payment_booking_id
    booking = (
        Booking.objects.select_for_update().get(pk=booking_id) if booking_id else None
    )
    receipt = MpesaReceipt.objects.select_for_update().get(pk=receipt_id)
    if (receipt.booking_id or booking_id) != booking_id:
        raise RefundRefused(
            f"Receipt {number} changed while you asked; try again.",
            field="receipt_number",
        )
    return booking, receipt


def _refund_locked_with_receipt(refund_id: int) -> Refund:
    """Lock the refund's receipt, then the refund."""
    receipt_id = (
        Refund.objects.filter(pk=refund_id).values_list("receipt_id", flat=True).first()
    )
    if receipt_id is not None:
        MpesaReceipt.objects.select_for_update().get(pk=receipt_id)
    return refund_lock(refund_id=refund_id)


def _assert_awaiting_approval(refund: Refund) -> None:
    """Only a requested refund is approved. The table lets ``submitted``
    go back to ``approved`` (a submit that never reached Daraja), so an
    approval of a sent refund must not reach ``refund_move``: it would
    make it sendable again. A second approval (two tabs, a retry) is a
    409 naming who approved it."""
    if refund.status == Status.REQUESTED:
        return
    by = f" by {refund.approved_by.get_username()}" if refund.approved_by else ""
    raise InvalidRefundTransition(
        f"Refund {refund.pk} is {refund.get_status_display().lower()}{by}: "
        "only a requested refund can be approved.",
        from_status=refund.status,
        to_status=Status.APPROVED,
    )


def _release_mark_if_unused(refund: Refund) -> None:
    """A withdrawn request frees unallocated money for staff to allocate
    again, unless another refund still holds it."""
    receipt = refund.receipt
    if receipt.allocation != MpesaReceipt.Allocation.UNALLOCATED:
        return
    if policy.refund_remaining(receipt) == receipt.amount:
        receipt_clear_refund_mark(receipt=receipt)


def _note(note: str) -> str:
    return str(note or "").strip()[: policy.MAX_REASON_TEXT_LENGTH]


def _with_note(action: str, note: str) -> str:
    note = _note(note)
    return f"{action}: {note}" if note else action
