"""Reads of refunds for the staff console and the staff API.

Who may read is checked by the callers (``payments.view_refund``); these
only fetch, with the joins every screen of a refund needs.
"""

from django.db.models import QuerySet

from payments.exceptions import RefundNotFound
from payments.models import PaymentEvent, Refund

_JOINS = ("receipt", "booking", "requested_by", "approved_by")


def refund_list(*, status: str | None = None) -> QuerySet[Refund]:
    """Every refund, newest first, optionally of one status."""
    refunds = Refund.objects.select_related(*_JOINS)
    if status:
        refunds = refunds.filter(status=status)
    return refunds


def refund_get(*, refund_id: int) -> Refund:
    """One refund by id. Raises ``RefundNotFound``."""
    try:
        return Refund.objects.select_related(*_JOINS).get(pk=refund_id)
    except Refund.DoesNotExist:
        raise RefundNotFound() from None


def refunds_of_receipt(*, receipt_id: int) -> QuerySet[Refund]:
    """A receipt's refunds, newest first (its page's "Refunds" section)."""
    return Refund.objects.filter(receipt_id=receipt_id).select_related(*_JOINS)


def refund_events(*, refund_id: int) -> QuerySet[PaymentEvent]:
    """A refund's log, oldest first: its request, decisions, every
    exchange with Daraja and every result."""
    return (
        PaymentEvent.objects.filter(refund_id=refund_id)
        .select_related("actor")
        .order_by("created_at", "id")
    )
