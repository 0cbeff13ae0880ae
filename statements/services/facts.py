"""What a statement line becomes (``LineResult``), the ledger facts of
its row, and ``line_unallocated`` (money recorded that no booking took)."""

from dataclasses import dataclass

from bookings.models import Booking
from payments.models import MpesaReceipt, MpesaReceiptSighting
from payments.services.ledger import ReceiptFacts, receipt_record
from statements.models import Outcome
from statements.rows import StatementRow


@dataclass(frozen=True, slots=True)
class LineResult:
    """What one line became, and what it links to."""

    outcome: str
    detail: str = ""
    unallocated_reason: str = ""
    receipt_id: int | None = None
    payment_id: int | None = None
    booking_id: int | None = None
    refund_id: int | None = None


def receipt_facts(row: StatementRow, source: str) -> ReceiptFacts:
    phone, name = row_party(row)
    return ReceiptFacts(
        receipt_number=row.receipt_number,
        channel=_channel(row.reason_type),
        amount=row.paid_in,
        source=source,
        account_reference=row.account_number,
        payer_phone=phone,
        payer_name=name,
        transacted_at=row.completion_time,
    )


def row_party(row: StatementRow) -> tuple[str, str]:
    """``2547****108 - NAME`` (already masked by M-Pesa) as phone, name."""
    phone, _, name = row.other_party_info.partition(" - ")
    return phone.strip()[:32], name.strip()


def is_stk_row(row: StatementRow) -> bool:
    """Whether the row is an STK payment (by its Reason Type)."""
    return _channel(row.reason_type) == MpesaReceipt.Channel.STK


def _channel(reason_type: str) -> str:
    # "Pay Utility" (and "... via STK") is an STK payment, "Pay Bill
    # Online" a Paybill one (daraja.md section 10).
    text = reason_type.lower()
    if "utility" in text or "stk" in text:
        return MpesaReceipt.Channel.STK
    return MpesaReceipt.Channel.PAYBILL


def line_unallocated(
    row: StatementRow,
    source: str,
    reason: str,
    booking: Booking | None,
    detail: str,
) -> LineResult:
    """Recorded in the ledger as money no booking took, with why. A row
    naming a booking keeps it on the line (not on the receipt)."""
    receipt = receipt_record(
        facts=receipt_facts(row, source),
        allocation=MpesaReceipt.Allocation.UNALLOCATED,
        unallocated_reason=reason,
    )
    if (
        receipt.allocation != MpesaReceipt.Allocation.UNALLOCATED
        or receipt.unallocated_reason != reason
    ):
        # Recorded meanwhile by another report: this was one more sighting.
        return LineResult(Outcome.MATCHED, "recorded meanwhile", receipt_id=receipt.pk)
    return LineResult(
        Outcome.UNALLOCATED,
        detail or MpesaReceipt.UnallocatedReason(reason).label,
        unallocated_reason=reason,
        receipt_id=receipt.pk,
        booking_id=booking.pk if booking else None,
    )


SOURCES = {
    "statement": MpesaReceiptSighting.Source.STATEMENT,
    "pull": MpesaReceiptSighting.Source.PULL,
}
