"""What staff must still settle for one day before it is closed.

Each kind counts the day's rows (and their KES) and lists the first
``MAX_LISTED`` with a link to their admin page:

- ``needs_review``: payments started that day now in ``needs_review``;
- ``unallocated``: money in of that day that no booking took yet;
- ``stuck``: payments started that day still initiated or pending past
  the STK lifetime (``MPESA_STK_LIFETIME_SECONDS``, as on the
  reconciliation page: ``payments.reporting.payment_list_stuck``);
- ``refunds_unknown``: refunds sent that day whose outcome is unknown;
- ``receipt_pending``: payments completed that day by an STK Query whose
  receipt we still do not know (money we believe came, not in the ledger).
"""

from datetime import datetime

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse

from closing.services.days import receipts_between
from payments.models import MpesaReceipt, Payment, Refund
from payments.reporting import payment_list_stuck
from payments.selectors import payments_receipt_pending

MAX_LISTED = 50
OPEN_ITEM_KINDS = (
    "needs_review",
    "unallocated",
    "stuck",
    "refunds_unknown",
    "receipt_pending",
)


def day_open_items(*, start: datetime, end: datetime) -> dict:
    """Each open kind of [start, end): ``{count, amount, list_url, items}``;
    ``total`` counts them all. Reads only."""
    payments_changelist = reverse("admin:payments_payment_changelist")
    found = {
        "needs_review": _kind(
            Payment.objects.filter(
                status=Payment.Status.NEEDS_REVIEW,
                created_at__gte=start,
                created_at__lt=end,
            ),
            "payments_payment",
            f"{payments_changelist}?status__exact=needs_review",
        ),
        "unallocated": _kind(
            receipts_between(start, end).filter(
                direction=MpesaReceipt.Direction.IN,
                allocation=MpesaReceipt.Allocation.UNALLOCATED,
            ),
            "payments_mpesareceipt",
            reverse("admin:payments_unallocatedreceipt_changelist"),
        ),
        "stuck": _kind(
            payment_list_stuck().filter(created_at__gte=start, created_at__lt=end),
            "payments_payment",
            f"{payments_changelist}?stuck=yes",
        ),
        "refunds_unknown": _kind(
            Refund.objects.filter(status=Refund.Status.UNKNOWN)
            .select_related("receipt")
            .alias(sent=Coalesce("submitted_at", "created_at"))
            .filter(sent__gte=start, sent__lt=end),
            "payments_refund",
            reverse("admin:payments_refund_changelist") + "?queue=unknown",
        ),
        "receipt_pending": _kind(
            payments_receipt_pending()
            .alias(at=Coalesce("transaction_date", "created_at"))
            .filter(at__gte=start, at__lt=end),
            "payments_payment",
            f"{payments_changelist}?receipt=pending",
        ),
    }
    found["total"] = sum(found[kind]["count"] for kind in OPEN_ITEM_KINDS)
    return found


def _kind(rows: QuerySet, admin_name: str, list_url: str) -> dict:
    totals = rows.order_by().aggregate(n=Count("pk"), kes=Sum("amount"))
    listed = rows.order_by("created_at", "pk")
    if rows.model is Payment:
        listed = listed.select_related("booking")
    return {
        "count": totals["n"],
        "amount": totals["kes"] or 0,
        "list_url": list_url,
        "items": [_item(row, admin_name) for row in listed[:MAX_LISTED]],
    }


def _item(row: Payment | MpesaReceipt | Refund, admin_name: str) -> dict:
    return {
        "id": row.pk,
        "label": _label(row),
        "amount": row.amount,
        "url": reverse(f"admin:{admin_name}_change", args=[row.pk]),
    }


def _label(row: Payment | MpesaReceipt | Refund) -> str:
    """What staff recognise the row by; never a phone number."""
    if isinstance(row, MpesaReceipt):
        reason = row.get_unallocated_reason_display()
        return f"Receipt {row.receipt_number} ({reason})"
    if isinstance(row, Refund):
        return f"Refund {row.pk} of receipt {row.receipt.receipt_number}"
    return f"Payment {row.pk} of booking {row.booking.reference}"
