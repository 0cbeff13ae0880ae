"""What a statement line becomes (``LineResult``) and the ledger facts of
its row."""

from dataclasses import dataclass

from payments.models import MpesaReceipt, MpesaReceiptSighting
from payments.services.ledger import ReceiptFacts
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


def _channel(reason_type: str) -> str:
    # "Pay Utility" (and "... via STK") is an STK payment, "Pay Bill
    # Online" a Paybill one (daraja.md section 10).
    text = reason_type.lower()
    if "utility" in text or "stk" in text:
        return MpesaReceipt.Channel.STK
    return MpesaReceipt.Channel.PAYBILL


SOURCES = {
    "statement": MpesaReceiptSighting.Source.STATEMENT,
    "pull": MpesaReceiptSighting.Source.PULL,
}
