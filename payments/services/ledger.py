"""The receipts ledger's one writer: record a sighting of an M-Pesa receipt.

A receipt is created once, by the first source that reports it, with that
source's allocation; every later report of the same receipt (a duplicate
callback, a C2B confirmation of an STK payment, a replay) adds a sighting
and nothing else, so its money is counted once. Called inside the
transaction of the payment change that learned the receipt.
"""

import enum
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from payments.models import MpesaReceipt, MpesaReceiptSighting, Payment
from payments.services.reports import SuccessReport, receipt_is_valid

Allocation = MpesaReceipt.Allocation
ReviewCode = Payment.ReviewCode


@dataclass(frozen=True, slots=True)
class ReceiptFacts:
    """What a source says about one M-Pesa transaction."""

    receipt_number: str
    channel: str
    amount: int
    source: str
    event_id: int | None = None
    account_reference: str = ""
    payer_phone: str = ""
    payer_name: str = ""
    transacted_at: datetime | None = None


def receipt_record(
    *,
    facts: ReceiptFacts,
    allocation: str,
    unallocated_reason: str = "",
    payment_id: int | None = None,
    booking_id: int | None = None,
) -> MpesaReceipt:
    """Record one sighting of ``facts.receipt_number``; the receipt row is
    created on its first sighting (with this allocation) and never
    duplicated. Returns the receipt."""
    with transaction.atomic():
        try:
            # The first sighting is the common case: one INSERT, no read.
            with transaction.atomic():
                receipt = MpesaReceipt.objects.create(
                    receipt_number=facts.receipt_number,
                    channel=facts.channel,
                    amount=facts.amount,
                    account_reference=facts.account_reference[:64],
                    payer_phone=facts.payer_phone[:64],
                    payer_name=facts.payer_name[:128],
                    transacted_at=facts.transacted_at,
                    allocation=allocation,
                    unallocated_reason=unallocated_reason,
                    payment_id=payment_id,
                    booking_id=booking_id,
                )
        except IntegrityError:
            # Known already (on PostgreSQL, after a concurrent first
            # sighting commits): this report is one more sighting.
            receipt = _locked(facts.receipt_number)
            if receipt is None:
                raise
        MpesaReceiptSighting.objects.create(
            receipt=receipt, source=facts.source, event_id=facts.event_id
        )
    return receipt


def _locked(receipt_number: str) -> MpesaReceipt | None:
    return (
        MpesaReceipt.objects.select_for_update()
        .filter(receipt_number=receipt_number)
        .first()
    )


def receipt_sighting(
    *, receipt_number: str, source: str, event_id: int | None = None
) -> bool:
    """Add a sighting to a receipt already in the ledger (a repeated
    report); False, and nothing written, when it is not there."""
    with transaction.atomic():
        receipt = _locked(receipt_number)
        if receipt is None:
            return False
        MpesaReceiptSighting.objects.create(
            receipt=receipt, source=source, event_id=event_id
        )
    return True


class LedgerClaim(enum.StrEnum):
    """What the ledger says of a receipt an STK success reports."""

    # Another channel (a C2B confirmation) recorded it first, allocated to
    # this payment's booking, which it paid: this payment's own money.
    PAID_BOOKING = "paid_booking"
    # Recorded first as unallocated money of the payment's amount, by no
    # payment (e.g. a confirmation whose BillRefNumber named no booking):
    # this payment's own money, for it to allocate.
    UNCLAIMED = "unclaimed"
    # Someone else's (another booking, another payment, another amount, or
    # refunded): the report repeats a receipt that is not this payment's.
    FOREIGN = "foreign"


def receipt_claim_for_payment(*, receipt_id: int, payment: Payment) -> LedgerClaim:
    """Lock the ledger row ``receipt_id`` and say whose money it is for
    ``payment`` (an STK success reporting that receipt)."""
    receipt = MpesaReceipt.objects.select_for_update().get(pk=receipt_id)
    if receipt.payment_id not in (None, payment.pk) or receipt.amount != payment.amount:
        return LedgerClaim.FOREIGN
    if receipt.allocation == Allocation.ALLOCATED:
        if receipt.booking_id == payment.booking_id:
            return LedgerClaim.PAID_BOOKING
        return LedgerClaim.FOREIGN
    if receipt.allocation == Allocation.UNALLOCATED and receipt.booking_id is None:
        return LedgerClaim.UNCLAIMED
    return LedgerClaim.FOREIGN


def receipt_take_for_payment(
    *, receipt_id: int, payment: Payment, source: str, event_id: int | None
) -> None:
    """``payment`` takes a receipt another channel recorded first (see
    ``receipt_claim_for_payment``): allocated to it and its booking, plus
    one sighting. Call inside the payment's transaction, after the claim."""
    MpesaReceipt.objects.filter(pk=receipt_id).update(
        payment_id=payment.pk,
        booking_id=payment.booking_id,
        allocation=Allocation.ALLOCATED,
        unallocated_reason="",
        updated_at=timezone.now(),
    )
    MpesaReceiptSighting.objects.create(
        receipt_id=receipt_id, source=source, event_id=event_id
    )


# Why money a payment could not take stays unallocated in the ledger.
_UNALLOCATED = {
    ReviewCode.BOOKING_ALREADY_PAID: MpesaReceipt.UnallocatedReason.DUPLICATE_PAYMENT,
    ReviewCode.BOOKING_REFUND_DUE: MpesaReceipt.UnallocatedReason.BOOKING_NOT_PAYABLE,
    ReviewCode.SECOND_RECEIPT: MpesaReceipt.UnallocatedReason.DUPLICATE_PAYMENT,
}


def receipt_record_from_report(
    payment: Payment, report: SuccessReport, code: str | None
) -> None:
    """Put the report's receipt in the ledger: allocated to the payment when
    it completed, otherwise unallocated with why (a receipt on another
    payment gets a sighting on its existing row). Nothing without a usable
    receipt and a whole-shilling amount: the raw event keeps those."""
    receipt = report.mpesa_receipt_number
    amount = report.paid_amount if report.reports_amount else payment.amount
    if not receipt_is_valid(receipt) or not _whole_storable(amount):
        return
    if code == ReviewCode.RECEIPT_DUPLICATE:
        # The receipt is another payment's: one more sighting of its row.
        receipt_sighting(
            receipt_number=receipt,
            source=MpesaReceiptSighting.Source.STK_CALLBACK,
            event_id=report.event_id,
        )
        return
    if code == ReviewCode.AMOUNT_MISMATCH:
        reason = (
            MpesaReceipt.UnallocatedReason.UNDERPAID
            if amount < payment.amount
            else MpesaReceipt.UnallocatedReason.OVERPAID
        )
    else:
        reason = _UNALLOCATED.get(code, "")
    if code is not None and not reason:
        return  # e.g. an unusable amount: no ledger row from this report
    allocated = code is None
    receipt_record(
        facts=ReceiptFacts(
            receipt_number=receipt,
            channel=MpesaReceipt.Channel.STK,
            amount=max(int(amount), 0),
            source=MpesaReceiptSighting.Source.STK_CALLBACK,
            event_id=report.event_id,
            payer_phone=report.paid_phone_number,
            transacted_at=report.transaction_date,
        ),
        allocation=Allocation.ALLOCATED if allocated else Allocation.UNALLOCATED,
        unallocated_reason="" if allocated else reason,
        payment_id=payment.pk if allocated else None,
        booking_id=payment.booking_id if allocated else None,
    )


def _whole_storable(amount: object) -> bool:
    """Whole shillings that ``MpesaReceipt.amount`` holds (a forged 1e300
    or a fraction stays in the raw event only)."""
    return amount is not None and amount == int(amount) and 0 <= amount < 2**31
