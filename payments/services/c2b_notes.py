"""The notes a C2B confirmation leaves when its money pays nothing as sent.

For ``payments.services.c2b_allocation``: an amount the ledger cannot hold
(kept in the raw event only), a receipt seen again with another amount (the
amount on record is kept), and a receipt that became someone else's before
the confirmation could pay its booking (one more sighting). Each writes a
``PaymentEvent`` note and a warning, so staff compare with the statement.
"""

import logging

from bookings.models import Booking
from core.money import format_kes
from payments.daraja.c2b import C2BRequest
from payments.models import MpesaReceipt, MpesaReceiptSighting, PaymentEvent
from payments.services.events import event_record
from payments.services.ledger import ReceiptTakenMeanwhileError, receipt_sighting

logger = logging.getLogger(__name__)
SOURCE = MpesaReceiptSighting.Source.C2B_CONFIRMATION


def c2b_note_not_recorded(request: C2BRequest, event_id: int) -> None:
    """A fraction of a shilling is not M-Pesa's, and nothing (KES 0) is not
    a payment: the raw event keeps it, a note says why the ledger does not
    (staff compare with the statement)."""
    if request.amount % 1:
        why = "is not whole shillings"
    elif request.amount < 1:
        why = "is below KES 1"
    else:
        why = "is more than any M-Pesa payment"
    reason = (
        f"C2B confirmation event {event_id}: TransID {request.trans_id} not "
        f"recorded in the ledger: amount {request.amount} {why}"
    )
    event_record(kind=PaymentEvent.Kind.NOTE, reason=reason)
    logger.warning(reason)


def c2b_note_amount_differs(request: C2BRequest, amount: int, event_id: int) -> None:
    """A receipt seen again with another amount: one of the two reports is
    wrong (or forged). The amount on record is never changed; a note and a
    warning tell staff to compare with the statement."""
    recorded = (
        MpesaReceipt.objects.filter(receipt_number=request.trans_id)
        .values_list("amount", flat=True)
        .first()
    )
    if recorded is None or recorded == amount:
        return
    reason = (
        f"C2B confirmation event {event_id}: receipt {request.trans_id} is "
        f"recorded for {format_kes(recorded)} but this confirmation says "
        f"{format_kes(amount)}; the recorded amount is kept: compare with the "
        "M-Pesa statement"
    )
    event_record(kind=PaymentEvent.Kind.NOTE, reason=reason)
    logger.warning(reason)


def c2b_note_receipt_lost(
    request: C2BRequest,
    booking: Booking | None,
    event_id: int,
    lost: ReceiptTakenMeanwhileError,
) -> None:
    """The receipt became someone else's before this confirmation could pay
    its booking with it: one more sighting, nothing paid, a note for staff."""
    receipt_sighting(
        receipt_number=lost.receipt_number, source=SOURCE, event_id=event_id
    )
    named = booking.reference if booking is not None else request.bill_ref_number
    reason = (
        f"C2B confirmation event {event_id}: receipt {lost.receipt_number} was "
        f"{lost.where} before this confirmation could pay booking {named} with "
        "it; nothing was paid: check whose money it is"
    )
    event_record(kind=PaymentEvent.Kind.NOTE, reason=reason)
    logger.warning(reason, extra={"booking_id": booking.pk if booking else None})
