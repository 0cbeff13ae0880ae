"""Staff actions on the receipts ledger: allocate unallocated money to a
booking, or mark it for refund. Each is audited with a ``staff_action``
event naming the actor and their note; ``payments.admin.receipt_actions``
calls them.
"""

import logging

from django.db import transaction
from django.utils import timezone

from bookings.exceptions import BookingNotPayable
from bookings.models import Booking
from bookings.references import booking_reference_normalise
from bookings.services import (
    BookingPaymentOutcome,
    booking_assert_payable,
    booking_mark_paid,
)
from core.money import format_kes
from payments.exceptions import ReceiptActionRefused
from payments.models import MpesaReceipt, MpesaReceiptSighting, Payment, PaymentEvent
from payments.services.scheduling import schedule_settlement_from_booking_receipt

logger = logging.getLogger(__name__)
Allocation = MpesaReceipt.Allocation


def receipt_allocate_to_booking(
    *, receipt_id: int, booking_reference: str, actor, note: str
) -> MpesaReceipt:
    """Allocate unallocated money to the booking staff name by reference.

    Only a booking awaiting payment that owes exactly the receipt's amount
    (what an STK push would ask: ``booking.amount``), with no STK prompt
    open. Inside one transaction, on locked rows (booking, then receipt,
    the order settlement locks them in): the booking is confirmed and paid
    through ``booking_mark_paid``, the receipt becomes allocated with it,
    and one staff sighting links to a ``staff_action`` event naming the
    actor and note (the audit). Raises ``ReceiptActionRefused`` (nothing
    written) for anything else.
    """
    note = _required_note(note)
    reference = booking_reference_normalise(booking_reference)
    if reference is None:
        raise ReceiptActionRefused(
            f"{booking_reference.strip()!r} is not a booking reference "
            "(HY and 6 characters, e.g. HYABC234)."
        )
    with transaction.atomic():
        booking = _booking_locked(reference)
        receipt = _receipt_locked_for_staff(receipt_id)
        _refuse_unless_allocatable(receipt)
        _refuse_unless_owed(booking, receipt)
        if booking_mark_paid(booking_id=booking.pk) != BookingPaymentOutcome.CONFIRMED:
            raise ReceiptActionRefused(
                f"Booking {reference} could not be confirmed; nothing changed."
            )
        receipt.allocation = Allocation.ALLOCATED
        receipt.unallocated_reason = ""
        receipt.booking = booking
        receipt.save(
            update_fields=["allocation", "unallocated_reason", "booking", "updated_at"]
        )
        event = _staff_event(
            operation=STAFF_ALLOCATE,
            actor=actor,
            reason=(
                f"Receipt {receipt.receipt_number} ({format_kes(receipt.amount)}) "
                f"allocated to booking {reference} by staff: {note}"
            ),
        )
        MpesaReceiptSighting.objects.create(
            receipt=receipt, source=MpesaReceiptSighting.Source.STAFF, event=event
        )
        # If it is a push's money (``unknown_payment``), its payment of
        # unknown outcome settles on it once this commits.
        schedule_settlement_from_booking_receipt(receipt_number=receipt.receipt_number)
    logger.info(
        "Receipt %s allocated to booking %s by staff",
        receipt.receipt_number,
        booking.pk,
        extra={"booking_id": booking.pk},
    )
    return receipt


def receipt_mark_for_refund(*, receipt_id: int, actor, note: str) -> MpesaReceipt:
    """Mark unallocated money for refund (the refunds flow picks it up).

    Sets ``refund_marked_at``/``refund_marked_by`` on the locked receipt and
    records a ``staff_action`` event with the actor and note; the
    allocation is unchanged and no sighting is added (nobody reported the
    money again). Raises ``ReceiptActionRefused`` (nothing written) for an
    allocated or refunded receipt, or one already marked.
    """
    note = _required_note(note)
    with transaction.atomic():
        receipt = _receipt_locked_for_staff(receipt_id)
        _refuse_unless_allocatable(receipt)
        receipt.refund_marked_at = timezone.now()
        receipt.refund_marked_by = actor
        receipt.save(
            update_fields=["refund_marked_at", "refund_marked_by", "updated_at"]
        )
        _staff_event(
            operation=STAFF_MARK_REFUND,
            actor=actor,
            reason=(
                f"Receipt {receipt.receipt_number} ({format_kes(receipt.amount)}) "
                f"marked for refund by staff: {note}"
            ),
        )
    logger.info("Receipt %s marked for refund by staff", receipt.receipt_number)
    return receipt


def receipt_mark_refund_requested(*, receipt: MpesaReceipt, actor) -> None:
    """A refund was requested of this unallocated money (``refunds.py``,
    on the receipt it locked): mark it, so nobody allocates it meanwhile.
    Already marked: unchanged."""
    if receipt.refund_marked_at is not None:
        return
    receipt.refund_marked_at = timezone.now()
    receipt.refund_marked_by = actor
    receipt.save(update_fields=["refund_marked_at", "refund_marked_by", "updated_at"])


def receipt_clear_refund_mark(*, receipt: MpesaReceipt) -> None:
    """The refund of this unallocated money was withdrawn or rejected
    (``refunds.py``, on the receipt it locked): staff may allocate it
    again."""
    if receipt.refund_marked_at is None:
        return
    receipt.refund_marked_at = None
    receipt.refund_marked_by = None
    receipt.save(update_fields=["refund_marked_at", "refund_marked_by", "updated_at"])


# ``PaymentEvent.operation`` of the staff actions on receipts (the receipt's
# page lists its audit by these and the receipt number in the reason).
STAFF_ALLOCATE = "receipt_allocate"
STAFF_MARK_REFUND = "receipt_mark_refund"
STAFF_OPERATIONS = (STAFF_ALLOCATE, STAFF_MARK_REFUND)
MAX_NOTE_LENGTH = 1000


def _required_note(note: str) -> str:
    note = (note or "").strip()
    if not note:
        raise ReceiptActionRefused("Write a note: why, and the evidence.")
    return note[:MAX_NOTE_LENGTH]


def _booking_locked(reference: str) -> Booking:
    # A lock that reads before the owner call (booking_mark_paid): two
    # receipts allocated to one booking at once are serialised here.
    booking = Booking.objects.select_for_update().filter(reference=reference).first()
    if booking is None:
        raise ReceiptActionRefused(f"No booking has the reference {reference}.")
    return booking


def _receipt_locked_for_staff(receipt_id: int) -> MpesaReceipt:
    receipt = MpesaReceipt.objects.select_for_update().filter(pk=receipt_id).first()
    if receipt is None:
        raise ReceiptActionRefused("No such receipt.")
    return receipt


def _refuse_unless_allocatable(receipt: MpesaReceipt) -> None:
    """Only unallocated money coming in, not yet marked for refund."""
    number = receipt.receipt_number
    if receipt.allocation != Allocation.UNALLOCATED:
        raise ReceiptActionRefused(
            f"Receipt {number} is already {receipt.get_allocation_display().lower()}"
            + (f" (booking {receipt.booking.reference})." if receipt.booking else ".")
        )
    if receipt.direction != MpesaReceipt.Direction.IN:
        raise ReceiptActionRefused(f"Receipt {number} is money going out.")
    if receipt.refund_marked_at is not None:
        when = timezone.localtime(receipt.refund_marked_at)
        raise ReceiptActionRefused(
            f"Receipt {number} was marked for refund on {when:%Y-%m-%d %H:%M}."
        )


def _refuse_unless_owed(booking: Booking, receipt: MpesaReceipt) -> None:
    """The booking awaits payment of exactly this amount, no prompt open."""
    try:
        booking_assert_payable(booking=booking)
    except BookingNotPayable as exc:
        raise ReceiptActionRefused(
            f"Booking {booking.reference}: {exc.message}"
        ) from exc
    if booking.amount != receipt.amount:
        raise ReceiptActionRefused(
            f"Booking {booking.reference} owes {format_kes(booking.amount)}; "
            f"receipt {receipt.receipt_number} is {format_kes(receipt.amount)}."
        )
    open_payment = (
        Payment.objects.filter(booking=booking, status__in=Payment.OPEN_STATUSES)
        .values_list("pk", flat=True)
        .first()
    )
    if open_payment is not None:
        # Its money could still arrive: paying the booking now would take
        # it twice. The prompt ends within the STK lifetime.
        raise ReceiptActionRefused(
            f"Booking {booking.reference} has an M-Pesa prompt still open "
            f"(payment {open_payment}); wait for it to finish or re-query it."
        )


def _staff_event(*, operation: str, actor, reason: str) -> PaymentEvent:
    return PaymentEvent.objects.create(
        kind=PaymentEvent.Kind.STAFF_ACTION,
        operation=operation,
        actor=actor,
        reason=reason,
    )
