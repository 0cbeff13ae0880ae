"""Money withdrawn, as M-Pesa's record shows it (rule 5).

A refund's own receipt (or the receipt it paid back, in ``Linked
Transaction ID``) links the line to that refund; a withdrawal of another
amount than the refund's is an ``amount_mismatch`` for staff. M-Pesa's
charges (by the words of their ``Reason Type``) and the moves to the
business's own settlement account (by the exact ``Reason Type`` the
portal writes, ``../shared/daraja.md`` section 10) are named; anything
else is an ``unexplained_withdrawal``. Nothing here moves money: a
refund's status changes only on M-Pesa's result (``refund_results``).
"""

import re

from core.money import format_kes
from payments.models import Refund
from payments.services.ledger import receipt_peek
from statements.models import Outcome
from statements.rows import StatementRow
from statements.services.facts import LineResult

# Reason Types of money moved to the business's own accounts, normalised
# (lower case, single spaces). "transfer to" alone also names transfers to
# other people's accounts: only the portal's exact value is a settlement.
SETTLEMENT_REASON_TYPES = frozenset(
    {"utility account to organization settlement account"}
)
_CHARGE_WORDS = re.compile(r"\b(charges?|fees?|commissions?)\b", re.IGNORECASE)


def money_out_apply(*, row: StatementRow) -> LineResult:
    """Categorise one completed withdrawal. A charge first: its row may
    carry the receipt number of the refund it was charged for."""
    if _CHARGE_WORDS.search(row.reason_type):
        return LineResult(Outcome.CHARGE, row.reason_type)
    refund = _refund(row)
    if refund is not None:
        return _refund_line(row, refund)
    if " ".join(row.reason_type.lower().split()) in SETTLEMENT_REASON_TYPES:
        return LineResult(Outcome.SETTLEMENT, row.reason_type)
    return LineResult(
        Outcome.UNEXPLAINED_WITHDRAWAL,
        f"{row.reason_type or 'no reason type'}: {row.details}".strip(),
    )


def _refund_line(row: StatementRow, refund: Refund) -> LineResult:
    outgoing = receipt_peek(row.receipt_number)
    links = {
        "refund_id": refund.pk,
        "booking_id": refund.booking_id,
        "receipt_id": outgoing.pk if outgoing else refund.receipt_id,
    }
    if row.withdrawn != refund.amount:
        detail = (
            f"the statement shows {format_kes(row.withdrawn)} withdrawn for "
            f"refund {refund.pk} of {format_kes(refund.amount)} "
            f"({refund.get_status_display()})"
        )
        return LineResult(Outcome.AMOUNT_MISMATCH, detail, **links)
    detail = f"refund {refund.pk} ({refund.get_status_display()})"
    if refund.status != Refund.Status.COMPLETED:
        detail += ": M-Pesa shows the money went; its result has not come"
    return LineResult(Outcome.REFUND, detail, **links)


def _refund(row: StatementRow) -> Refund | None:
    """The refund whose receipt the row is, else the one whose paid-back
    receipt it links to (a reversal's Linked Transaction ID), of the row's
    amount when that receipt had several refunds."""
    own = Refund.objects.filter(refund_receipt_number=row.receipt_number)
    refund = own.order_by("-pk").first()
    if refund is not None or not row.linked_transaction_id:
        return refund
    linked = Refund.objects.filter(receipt__receipt_number=row.linked_transaction_id)
    same_amount = linked.filter(amount=row.withdrawn).order_by("-pk").first()
    return same_amount or linked.order_by("-pk").first()
