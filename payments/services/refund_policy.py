"""The rules a refund must meet, checked on locked rows by ``refunds.py``.

Pure checks and reads: who may request or approve, how much of a receipt
is left to refund, which method sends it, and what a booking's state
allows. Each refusal is a ``RefundRefused`` (or ``RefundPermissionDenied``)
saying what to do instead; nothing here writes.
"""

from django.conf import settings
from django.db.models import Sum

from bookings.models import Booking
from core.money import format_kes
from payments.daraja.initiator_config import b2c_configured as b2c_settings_complete
from payments.exceptions import RefundPermissionDenied, RefundRefused
from payments.models import REFUND_HOLDING_STATUSES, MpesaReceipt, Refund
from payments.phone import InvalidPhoneNumber, normalise_phone

REQUEST_PERMISSION = "payments.request_refund"
APPROVE_PERMISSION = "payments.approve_refund"
APPROVE_LARGE_PERMISSION = "payments.approve_large_refund"
# B2C's own limits (daraja.md section 6).
B2C_MIN_AMOUNT = 10
B2C_MAX_AMOUNT = 250_000
# Reasons that may return part of a booking's money while it stays paid.
PARTIAL_OF_PAID_BOOKING_REASONS = (
    Refund.Reason.OVERPAID,
    Refund.Reason.GOODWILL,
    Refund.Reason.OTHER,
)
MAX_REASON_TEXT_LENGTH = 1000


def refund_assert_may_request(actor) -> None:
    if not actor.has_perm(REQUEST_PERMISSION):
        raise RefundPermissionDenied("You may not request refunds.")


def refund_assert_may_decide(actor, refund: Refund) -> None:
    """Approve or reject: ``approve_refund`` (and ``approve_large_refund``
    above ``REFUND_APPROVAL_LIMIT``), and never the requester."""
    if not actor.has_perm(APPROVE_PERMISSION):
        raise RefundPermissionDenied("You may not approve or reject refunds.")
    if refund.requested_by_id == actor.pk:
        raise RefundRefused(
            "You requested this refund: another person must approve or "
            "reject it (you may cancel it).",
            reason_code="same_person",
        )
    limit = settings.REFUND_APPROVAL_LIMIT
    if refund.amount > limit and not actor.has_perm(APPROVE_LARGE_PERMISSION):
        raise RefundPermissionDenied(
            f"Refunds above {format_kes(limit)} need a user allowed to approve "
            "large refunds."
        )


def refund_clean_amount(amount: object) -> int | None:
    """Whole KES >= 1, or None (the whole receipt)."""
    if amount is None or amount == "":
        return None
    if isinstance(amount, bool) or not isinstance(amount, int | str):
        raise RefundRefused("Enter the amount in whole shillings.", field="amount")
    text = str(amount).strip().replace(",", "")
    if not text.isdigit() or int(text) < 1:
        raise RefundRefused(
            "Enter the amount in whole shillings, at least KES 1.", field="amount"
        )
    return int(text)


def refund_clean_reason(reason: object, reason_text: object) -> tuple[str, str]:
    if reason not in Refund.Reason.values:
        raise RefundRefused(
            "Choose a reason: " + ", ".join(Refund.Reason.values) + ".",
            field="reason",
        )
    text = str(reason_text or "").strip()[:MAX_REASON_TEXT_LENGTH]
    if reason == Refund.Reason.OTHER and not text:
        raise RefundRefused("Say why in the reason text.", field="reason_text")
    return str(reason), text


def refund_assert_refundable(receipt: MpesaReceipt) -> None:
    """Money that came in and has not gone back."""
    number = receipt.receipt_number
    if receipt.direction != MpesaReceipt.Direction.IN:
        raise RefundRefused(f"Receipt {number} is money going out.")
    if receipt.allocation == MpesaReceipt.Allocation.REFUNDED:
        raise RefundRefused(f"Receipt {number} has been refunded already.")


def refund_remaining(receipt: MpesaReceipt, *, excluding: int | None = None) -> int:
    """KES of ``receipt`` no refund holds yet (read under the receipt's
    lock: requested, approved, sent, unknown and completed refunds hold
    their amount; failed, rejected and cancelled ones do not)."""
    holding = Refund.objects.filter(receipt=receipt, status__in=REFUND_HOLDING_STATUSES)
    if excluding is not None:
        holding = holding.exclude(pk=excluding)
    held = holding.aggregate(total=Sum("amount"))["total"] or 0
    return receipt.amount - held


def refund_assert_fits(receipt: MpesaReceipt, amount: int, remaining: int) -> None:
    if amount > remaining:
        raise RefundRefused(
            f"Receipt {receipt.receipt_number} has {format_kes(remaining)} left "
            f"to refund of {format_kes(receipt.amount)}; {format_kes(amount)} "
            "is more.",
            field="amount",
        )


def b2c_configured() -> bool:
    """Partial refunds need B2C: its short code and its own initiator (the
    adapter's rule, for the admin, which may not import the adapter)."""
    return b2c_settings_complete(settings)


def refund_method_for(receipt: MpesaReceipt, amount: int, remaining: int) -> str:
    """A Reversal for the whole, untouched receipt; B2C for part of it."""
    if amount == receipt.amount and remaining == receipt.amount:
        return Refund.Method.REVERSAL
    if not b2c_configured():
        raise RefundRefused(
            "Only whole receipts can be refunded here (by Reversal): partial "
            "refunds need B2C, which is not configured. Refund the whole "
            "receipt, or pay the part back by hand on the M-Pesa org portal.",
            field="amount",
        )
    if not B2C_MIN_AMOUNT <= amount <= B2C_MAX_AMOUNT:
        raise RefundRefused(
            f"A B2C refund is between {format_kes(B2C_MIN_AMOUNT)} and "
            f"{format_kes(B2C_MAX_AMOUNT)}.",
            field="amount",
        )
    return Refund.Method.B2C


def refund_recipient(receipt: MpesaReceipt, given: str) -> str:
    """Where a B2C refund goes: the number staff give, else the payer's
    when Daraja gave it in full (C2B sends it masked or hashed)."""
    for candidate, field in ((given, "recipient_phone"), (receipt.payer_phone, "")):
        if not candidate:
            continue
        try:
            return normalise_phone(candidate)
        except InvalidPhoneNumber as exc:
            if field:
                raise RefundRefused(exc.message, field=field) from exc
    raise RefundRefused(
        "M-Pesa gave only a masked or hashed number for this payer: enter the "
        "number to send the refund to.",
        field="recipient_phone",
    )


def refund_assert_booking_allows(
    booking: Booking | None, receipt: MpesaReceipt, amount: int, reason: str
) -> None:
    """A booking that is still paid for keeps its money: no whole refund
    until it is cancelled; part of it only for overpayment or goodwill."""
    if booking is None or receipt.allocation != MpesaReceipt.Allocation.ALLOCATED:
        return
    if booking.payment_status != Booking.PaymentStatus.PAID:
        return
    if amount >= receipt.amount:
        raise RefundRefused(
            f"Booking {booking.reference} is still paid for by this receipt: "
            "cancel the booking first (its money then becomes due back).",
        )
    if reason not in PARTIAL_OF_PAID_BOOKING_REASONS:
        raise RefundRefused(
            f"Booking {booking.reference} stays paid: part of its money goes back "
            "only as overpaid, goodwill or other.",
            field="reason",
        )
