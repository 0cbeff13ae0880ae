"""The ledger's money going out: a refund's own receipt, and the receipt
it paid back (``refund_results.py`` calls these on rows it locked).

A reversal or B2C payment is one ``MpesaReceipt`` with ``direction=out``
(channel ``reversal`` or ``b2c``), allocated to the refund's booking, seen
by the result (or the Transaction Status answer) that reported it; a
repeated report is one more sighting, never a second row.
"""

import logging
from datetime import datetime

from django.db import IntegrityError, transaction

from payments.models import MpesaReceipt, MpesaReceiptSighting, Refund

logger = logging.getLogger(__name__)
Source = MpesaReceiptSighting.Source


def receipt_record_outgoing(
    *,
    refund: Refund,
    receipt_number: str,
    transacted_at: datetime | None,
    source: str,
    event_id: int | None,
) -> MpesaReceipt:
    """Record the refund's own receipt (once); returns it."""
    channel = (
        MpesaReceipt.Channel.REVERSAL
        if refund.method == Refund.Method.REVERSAL
        else MpesaReceipt.Channel.B2C
    )
    try:
        with transaction.atomic():
            receipt = MpesaReceipt.objects.create(
                receipt_number=receipt_number,
                direction=MpesaReceipt.Direction.OUT,
                channel=channel,
                amount=refund.amount,
                account_reference=refund.receipt.receipt_number,
                payer_phone=refund.recipient_phone or refund.receipt.payer_phone,
                transacted_at=transacted_at,
                allocation=MpesaReceipt.Allocation.ALLOCATED,
                booking_id=refund.booking_id,
            )
    except IntegrityError:
        receipt = MpesaReceipt.objects.get(receipt_number=receipt_number)
        if receipt.direction != MpesaReceipt.Direction.OUT:
            logger.error(
                "refund %s: its receipt %s is in the ledger as money in",
                refund.pk,
                receipt_number,
            )
    MpesaReceiptSighting.objects.create(
        receipt=receipt, source=source, event_id=event_id
    )
    return receipt


def receipt_mark_refunded(*, receipt: MpesaReceipt) -> None:
    """All of the (locked) receipt's money has gone back: ``refunded``."""
    if receipt.allocation == MpesaReceipt.Allocation.REFUNDED:
        return
    receipt.allocation = MpesaReceipt.Allocation.REFUNDED
    receipt.unallocated_reason = ""
    receipt.save(update_fields=["allocation", "unallocated_reason", "updated_at"])
