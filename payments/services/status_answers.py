"""What a Transaction Status answer means: for staff (a JSON-safe copy),
for a refund (is it proof the money went back?) and for the ledger (money
into our shortcode that we never heard of).
"""

import logging

from django.conf import settings

from payments.daraja.result_fields import TransactionStatusFields
from payments.daraja.types import AsyncResult
from payments.models import MpesaReceipt, MpesaReceiptSighting, Refund
from payments.services.ledger import (
    ReceiptFacts,
    receipt_peek,
    receipt_record,
    receipt_sighting,
)
from payments.services.refund_results import MoneyWentBack

logger = logging.getLogger(__name__)
Source = MpesaReceiptSighting.Source
# What ``answer["ledger"]`` says a verification did to the ledger.
LEDGER_RECORDED = "recorded_unallocated"
LEDGER_KNOWN = "already_in_ledger"
LEDGER_NOT_OURS = "not_paid_to_us"
LEDGER_NOT_RECORDABLE = "not_recordable"


def answer_json(result: AsyncResult, fields: TransactionStatusFields | None) -> dict:
    """M-Pesa's answer as JSON-safe values (times as ISO text)."""
    answer: dict = {
        "result_code": result.result_code,
        "result_desc": result.result_desc,
    }
    if fields is None:
        return answer
    answer.update(
        receipt_no=fields.receipt_no,
        transaction_status=fields.transaction_status,
        amount=fields.amount,
        amount_text=fields.amount_text,
        initiated_at=_iso(fields.initiated_at),
        finalised_at=_iso(fields.finalised_at),
        debit_party_name=fields.debit_party_name,
        credit_party_name=fields.credit_party_name,
        debit_account_type=fields.debit_account_type,
        reason_type=fields.reason_type,
        transaction_reason=fields.transaction_reason,
    )
    return answer


def refund_proof(
    refund: Refund, fields: TransactionStatusFields | None, result: AsyncResult
) -> tuple[MoneyWentBack | None, str]:
    """The proof that ``refund``'s money moved, or None and why not.

    Proof is a completed transaction with a receipt of its own (not the
    receipt it paid back, whose status is "Reversed") for the refund's
    amount."""
    if fields is None:
        return None, f"M-Pesa: {result.result_code} {result.result_desc}"
    said = f"M-Pesa says {fields.transaction_status or 'nothing'}"
    if not fields.is_completed or not fields.receipt_no:
        return None, f"{said} ({fields.receipt_no or 'no receipt'}): outcome unknown"
    if fields.receipt_no == refund.receipt.receipt_number:
        return None, f"{said} of the paid-back receipt itself: outcome unknown"
    known = receipt_peek(fields.receipt_no)
    if known is not None and known.direction == MpesaReceipt.Direction.IN:
        return None, f"{said} of {fields.receipt_no}, money in: outcome unknown"
    if fields.amount is None or fields.amount != refund.amount:
        return None, (
            f"{said} for {fields.amount_text or 'no amount'}, not the refund's "
            f"KES {refund.amount}: "
            "outcome unknown"
        )
    return (
        MoneyWentBack(
            receipt_number=fields.receipt_no,
            transacted_at=fields.finalised_at or fields.initiated_at,
            result_code=result.result_code,
            result_description=result.result_desc,
            source=Source.TRANSACTION_STATUS,
        ),
        "",
    )


def status_record_unknown_money(
    *, fields: TransactionStatusFields, event_id: int
) -> str:
    """A verified receipt: one more sighting if the ledger has it; money
    M-Pesa says completed into our shortcode that it lacks is recorded as
    unallocated (``unknown_payment``). Returns a ``LEDGER_*`` value."""
    if not fields.is_completed or not fields.receipt_no:
        return LEDGER_NOT_OURS
    if receipt_peek(fields.receipt_no) is not None:
        receipt_sighting(
            receipt_number=fields.receipt_no,
            source=Source.TRANSACTION_STATUS,
            event_id=event_id,
        )
        return LEDGER_KNOWN
    if not _paid_to_us(fields.credit_party_name):
        return LEDGER_NOT_OURS
    if fields.amount is None or fields.amount < 1:
        return LEDGER_NOT_RECORDABLE
    phone, _, name = fields.debit_party_name.partition(" - ")
    receipt_record(
        facts=ReceiptFacts(
            receipt_number=fields.receipt_no,
            channel=_channel(fields.reason_type),
            amount=fields.amount,
            source=Source.TRANSACTION_STATUS,
            event_id=event_id,
            payer_phone=phone.strip(),
            payer_name=name.strip(),
            transacted_at=fields.finalised_at or fields.initiated_at,
        ),
        allocation=MpesaReceipt.Allocation.UNALLOCATED,
        unallocated_reason=MpesaReceipt.UnallocatedReason.UNKNOWN_PAYMENT,
    )
    logger.warning(
        "receipt %s (KES %s) verified with M-Pesa: recorded as unallocated",
        fields.receipt_no,
        fields.amount,
    )
    return LEDGER_RECORDED


def _paid_to_us(credit_party_name: str) -> bool:
    """Whether the credit party ("174379 - Haki Yetu") is one of our
    shortcodes."""
    party = credit_party_name.partition(" - ")[0].strip()
    ours = {
        str(getattr(settings, name, "") or "").strip()
        for name in (
            "MPESA_BUSINESS_SHORT_CODE",
            "MPESA_PARTY_B",
            "MPESA_C2B_SHORT_CODE",
        )
    }
    return bool(party) and party in ours - {""}


def _channel(reason_type: str) -> str:
    # The statement's Reason Type: "Pay Utility" (and "... via STK") is an
    # STK payment, "Pay Bill Online" a Paybill one (daraja.md section 10).
    text = reason_type.lower()
    if "utility" in text or "stk" in text:
        return MpesaReceipt.Channel.STK
    return MpesaReceipt.Channel.PAYBILL


def _iso(moment) -> str | None:
    return moment.isoformat() if moment is not None else None
