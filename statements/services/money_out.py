"""Money withdrawn, as M-Pesa's record shows it (rule 5).

A refund's own receipt (or the receipt it paid back, in ``Linked
Transaction ID``) links the line to that refund; M-Pesa's charges and the
moves to the business's own settlement account are named by their
``Reason Type``; anything else is an ``unexplained_withdrawal`` for
staff. Nothing here moves money: a refund's status changes only on
M-Pesa's result (``refund_results``).
"""

from django.db.models import Q

from payments.models import Refund
from payments.services.ledger import receipt_peek
from statements.models import Outcome
from statements.rows import StatementRow
from statements.services.facts import LineResult

_SETTLEMENT_WORDS = ("settlement account", "organization settlement", "transfer to")
_CHARGE_WORDS = ("charge", "fee", "commission")


def money_out_apply(*, row: StatementRow) -> LineResult:
    """Categorise one completed withdrawal. A charge first: its row may
    carry the receipt number of the refund it was charged for."""
    text = row.reason_type.lower()
    if any(word in text for word in _CHARGE_WORDS):
        return LineResult(Outcome.CHARGE, row.reason_type)
    refund = _refund(row)
    if refund is not None:
        detail = f"refund {refund.pk} ({refund.get_status_display()})"
        if refund.status != Refund.Status.COMPLETED:
            detail += ": M-Pesa shows the money went; its result has not come"
        outgoing = receipt_peek(row.receipt_number)
        return LineResult(
            Outcome.REFUND,
            detail,
            refund_id=refund.pk,
            booking_id=refund.booking_id,
            receipt_id=outgoing.pk if outgoing else refund.receipt_id,
        )
    if any(word in text for word in _SETTLEMENT_WORDS):
        return LineResult(Outcome.SETTLEMENT, row.reason_type)
    return LineResult(
        Outcome.UNEXPLAINED_WITHDRAWAL,
        f"{row.reason_type or 'no reason type'}: {row.details}".strip(),
    )


def _refund(row: StatementRow) -> Refund | None:
    """The refund whose receipt the row is, or whose paid-back receipt it
    links to (a reversal's Linked Transaction ID)."""
    match = Q(refund_receipt_number=row.receipt_number)
    if row.linked_transaction_id:
        match |= Q(
            receipt__receipt_number=row.linked_transaction_id, amount=row.withdrawn
        )
    return Refund.objects.filter(match).order_by("-pk").first()
