"""What a C2B confirmation's money pays: ``c2b_apply_confirmation``.

The receipt goes into the ledger once (``ledger.receipt_record``), with
one sighting per confirmation. When ``BillRefNumber`` names a booking
awaiting payment and the amount is exactly what it owes, the booking is
confirmed and paid through ``bookings.services.booking_mark_paid`` in the
same transaction, and an STK payment still open for it is closed
(``transitions.payment_close_paid_elsewhere``: no second prompt).
Anything else stays unallocated with its reason. A receipt the ledger
already holds (a repeated confirmation, or an STK payment reported again
as a C2B confirmation) is one more sighting and nothing else.

Lock order, as in the STK settlement: the open payment, then the booking,
then the receipt; so a confirmation and an STK callback for one booking
wait for each other instead of deadlocking.
"""

import logging
from dataclasses import dataclass

from django.db import transaction

from bookings.models import Booking
from bookings.selectors import booking_find_by_reference
from bookings.services import BookingPaymentOutcome, booking_mark_paid
from payments.daraja.c2b import C2BRequest
from payments.models import MpesaReceipt, MpesaReceiptSighting, Payment
from payments.services.c2b_copy import c2b_copy_report, c2b_receipt_pending_payment
from payments.services.c2b_notes import (
    c2b_note_amount_differs,
    c2b_note_not_recorded,
    c2b_note_receipt_lost,
)
from payments.services.ledger import (
    ReceiptFacts,
    ReceiptTakenMeanwhileError,
    receipt_awaits_its_payer,
    receipt_awaits_its_payer_locked,
    receipt_record,
    receipt_sighting,
)
from payments.services.settlement import payment_record_success
from payments.services.transitions import payment_close_paid_elsewhere

logger = logging.getLogger(__name__)
Allocation = MpesaReceipt.Allocation
Reason = MpesaReceipt.UnallocatedReason
SOURCE = MpesaReceiptSighting.Source.C2B_CONFIRMATION
# Largest amount ``MpesaReceipt.amount`` holds.
_STORABLE = 2**31


@dataclass(frozen=True, slots=True)
class C2BAllocation:
    """Where one confirmation's money went.

    ``repeated``: the ledger already held the receipt (one more sighting).
    ``recorded``: False when the amount is not whole shillings (kept in the
    raw event and a note, never in the ledger).
    """

    allocation: str = ""
    reason: str = ""
    booking_id: int | None = None
    closed_payment_id: int | None = None
    repeated: bool = False
    recorded: bool = True
    # The STK payment (completed by a query, receipt pending) whose copy this
    # confirmation is: it takes the receipt (``c2b_copy``).
    copied_payment_id: int | None = None


def c2b_apply_confirmation(*, request: C2BRequest, event_id: int) -> C2BAllocation:
    """Record the confirmation's receipt and pay its booking when it adds up.

    Side effects: one receipt (or one more sighting), the booking confirmed
    and paid, an open STK payment of it failed "paid by Paybill", all in
    one transaction. Idempotent per ``TransID``.
    """
    amount = request.whole_amount
    if amount is None or not 1 <= amount < _STORABLE:
        c2b_note_not_recorded(request, event_id)
        return C2BAllocation(recorded=False)
    with transaction.atomic():
        # A receipt the ledger holds is one more sighting, unless it is an
        # STK success no payment took: then this copy may pay its booking.
        # A plain read: ``_allocate`` reads it again under the locks.
        awaits = receipt_awaits_its_payer(
            receipt_number=request.trans_id, amount=amount
        )
        if not awaits and receipt_sighting(
            receipt_number=request.trans_id, source=SOURCE, event_id=event_id
        ):
            logger.info("C2B %s already in the ledger: a sighting", request.trans_id)
            c2b_note_amount_differs(request, amount, event_id)
            return C2BAllocation(repeated=True)
        booking = booking_find_by_reference(typed=request.bill_ref_number)
        try:
            # A savepoint: money found someone else's under its lock (staff
            # allocated or marked it after the plain read) pays nothing.
            with transaction.atomic():
                result = _allocate_and_record(
                    request, booking, amount, event_id, awaits=awaits
                )
        except ReceiptTakenMeanwhileError as lost:
            c2b_note_receipt_lost(request, booking, event_id, lost)
            result = C2BAllocation(repeated=True)
    logger.info(
        "C2B %s for KES %s: %s %s",
        request.trans_id,
        amount,
        result.allocation,
        result.reason,
        extra={"booking_id": result.booking_id},
    )
    return result


def _allocate_and_record(
    request: C2BRequest,
    booking: Booking | None,
    amount: int,
    event_id: int,
    *,
    awaits: bool,
) -> C2BAllocation:
    """Pay the booking if the money adds up and record the receipt. Raises
    ``ReceiptTakenMeanwhileError`` when the receipt turns out to be another
    booking's (the caller's savepoint undoes what was paid)."""
    result = _allocate(request, booking, amount, awaits=awaits)
    if result.copied_payment_id is not None:
        return _settle_copied_payment(request, amount, event_id, result)
    receipt = receipt_record(
        facts=_facts(request, amount, event_id),
        allocation=result.allocation,
        unallocated_reason=result.reason,
        booking_id=result.booking_id,
    )
    if result.booking_id is not None and receipt.booking_id != result.booking_id:
        # A row a concurrent report inserted first, someone else's.
        raise ReceiptTakenMeanwhileError(receipt)
    return result


def _allocate(
    request: C2BRequest, booking: Booking | None, amount: int, *, awaits: bool
) -> C2BAllocation:
    """Pay ``booking`` if the money adds up; otherwise say why not.
    ``awaits``: the ledger held the receipt as an STK success no payment
    took (a plain read), checked again under the booking's and the
    receipt's locks before the money touches the booking."""
    unallocated = Allocation.UNALLOCATED
    if booking is None:
        return C2BAllocation(unallocated, Reason.UNKNOWN_ACCOUNT)
    if booking.payment_status == Booking.PaymentStatus.PAID:
        return _copy_or_duplicate(request, booking, amount)
    if booking.payment_status != Booking.PaymentStatus.UNPAID or booking.status not in (
        Booking.Status.PENDING_PAYMENT,
        Booking.Status.EXPIRED,  # a late payment confirms it if the slot is free
    ):
        return C2BAllocation(unallocated, Reason.BOOKING_NOT_PAYABLE)
    if amount != booking.amount:
        reason = Reason.UNDERPAID if amount < booking.amount else Reason.OVERPAID
        return C2BAllocation(unallocated, reason)
    open_payment = lock_open_payment_of_booking(booking.pk)
    if awaits and not receipt_awaits_its_payer_locked(
        receipt_number=request.trans_id, amount=amount, booking_id=booking.pk
    ):
        raise ReceiptTakenMeanwhileError(
            MpesaReceipt.objects.get(receipt_number=request.trans_id)
        )
    outcome = booking_mark_paid(booking_id=booking.pk)
    if outcome == BookingPaymentOutcome.ALREADY_PAID:
        # Paid meanwhile (a race): no copy settled here, which would lock a
        # payment after the booking, against the lock order.
        return C2BAllocation(unallocated, Reason.DUPLICATE_PAYMENT)
    if outcome != BookingPaymentOutcome.CONFIRMED:
        # The booking is now refund_due: the receipt names it (the money is
        # that booking's, to refund), unallocated, so nothing counts it paid.
        return C2BAllocation(unallocated, Reason.BOOKING_NOT_PAYABLE, booking.pk)
    closed = None
    if open_payment is not None:
        payment_close_paid_elsewhere(payment_id=open_payment, receipt=request.trans_id)
        closed = open_payment
    return C2BAllocation(Allocation.ALLOCATED, "", booking.pk, closed)


def _copy_or_duplicate(
    request: C2BRequest, booking: Booking, amount: int
) -> C2BAllocation:
    """For a paid booking: the copy of its receipt-pending payment's money,
    or (anything ambiguous) a duplicate payment for staff."""
    copied = c2b_receipt_pending_payment(
        request=request, booking=booking, amount=amount
    )
    if copied is None:
        return C2BAllocation(Allocation.UNALLOCATED, Reason.DUPLICATE_PAYMENT)
    return C2BAllocation(Allocation.ALLOCATED, "", booking.pk, copied_payment_id=copied)


def _settle_copied_payment(
    request: C2BRequest, amount: int, event_id: int, result: C2BAllocation
) -> C2BAllocation:
    """The payment takes the receipt through its settlement owner (receipt,
    ledger row allocated to it, this confirmation's sighting). Should the
    settlement leave no ledger row (it refused the report), the money is
    recorded as a duplicate payment: never lost."""
    report = c2b_copy_report(request=request, amount=amount, event_id=event_id)
    payment_record_success(payment_id=result.copied_payment_id, report=report)
    if MpesaReceipt.objects.filter(receipt_number=request.trans_id).exists():
        return result
    logger.warning(
        "C2B %s: payment %s did not take it; unallocated",
        request.trans_id,
        result.copied_payment_id,
    )
    receipt_record(
        facts=_facts(request, amount, event_id),
        allocation=Allocation.UNALLOCATED,
        unallocated_reason=Reason.DUPLICATE_PAYMENT,
    )
    return C2BAllocation(Allocation.UNALLOCATED, Reason.DUPLICATE_PAYMENT)


def lock_open_payment_of_booking(booking_id: int) -> int | None:
    """Lock the booking's open STK payment, if any, before the booking is
    touched (a lock that reads before an owner call: the close below;
    the statement import pays a booking the same way).
    On PostgreSQL a payment an STK callback settles meanwhile is no longer
    open once its lock is released, and is not returned."""
    return (
        Payment.objects.select_for_update()
        .filter(booking_id=booking_id, status__in=Payment.OPEN_STATUSES)
        .values_list("pk", flat=True)
        .first()
    )


def _facts(request: C2BRequest, amount: int, event_id: int) -> ReceiptFacts:
    return ReceiptFacts(
        receipt_number=request.trans_id,
        channel=MpesaReceipt.Channel.PAYBILL,
        amount=amount,
        source=SOURCE,
        event_id=event_id,
        account_reference=request.bill_ref_number,
        payer_phone=request.msisdn,
        payer_name=request.payer_name,
        transacted_at=request.trans_time,
    )
