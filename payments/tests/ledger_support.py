"""Receipts for tests, written through the ledger's one writer."""

from datetime import datetime

from payments.models import MpesaReceipt, MpesaReceiptSighting, PaymentEvent
from payments.services.ledger import ReceiptFacts, receipt_record

Allocation = MpesaReceipt.Allocation
Reason = MpesaReceipt.UnallocatedReason


def paybill_receipt(
    receipt_number: str = "TLK3AB12CD",
    *,
    amount: int = 3000,
    account: str = "HYWRONG22",
    payer_phone: str = "254708374149",
    reason: str = MpesaReceipt.UnallocatedReason.UNKNOWN_ACCOUNT,
    transacted_at: datetime | None = None,
    channel: str = MpesaReceipt.Channel.PAYBILL,
) -> MpesaReceipt:
    """An unallocated Paybill receipt seen once, by a C2B confirmation
    (its raw event stored first, as the intake does)."""
    event = PaymentEvent.objects.create(
        kind=PaymentEvent.Kind.C2B_CONFIRMATION,
        operation="c2b_confirmation",
        request_body={"TransID": receipt_number, "BillRefNumber": account},
    )
    return receipt_record(
        facts=ReceiptFacts(
            receipt_number=receipt_number,
            channel=channel,
            amount=amount,
            source=MpesaReceiptSighting.Source.C2B_CONFIRMATION,
            event_id=event.pk,
            account_reference=account,
            payer_phone=payer_phone,
            payer_name="JOHN",
            transacted_at=transacted_at,
        ),
        allocation=Allocation.UNALLOCATED,
        unallocated_reason=reason,
    )


def allocated_receipt(
    receipt_number: str, *, payment, transacted_at: datetime | None = None
) -> MpesaReceipt:
    """An STK receipt allocated to ``payment`` (and its booking)."""
    return receipt_record(
        facts=ReceiptFacts(
            receipt_number=receipt_number,
            channel=MpesaReceipt.Channel.STK,
            amount=payment.amount,
            source=MpesaReceiptSighting.Source.STK_CALLBACK,
            payer_phone=payment.phone_number,
            transacted_at=transacted_at,
        ),
        allocation=Allocation.ALLOCATED,
        payment_id=payment.pk,
        booking_id=payment.booking_id,
    )
