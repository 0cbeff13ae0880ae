"""Purging personal data past its retention (``manage.py purge_personal_data``).

Phone numbers and names of settled payments, receipts and refunds whose last
change is older than the cutoff are replaced by ``PURGED``, and their index
columns cleared, so no search by phone finds them again. Amounts, receipt
numbers, references, statuses and times stay: the accounts still add up.

Never purged, because someone may still need the number to settle money:
an open payment (its callback or query has yet to come) or one in review; an
unallocated receipt (staff must find its payer), one whose booking is owed a
refund, or one with an open refund; a refund not yet final (``unknown``
included: M-Pesa may still answer). Bookings hold no phone or name of their
own (the client is an account), so nothing in them changes. Events (the raw
Daraja exchanges) are kept, encrypted: they are the append-only evidence
of what M-Pesa said (docs/personal-data.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from bookings.models import Booking
from payments.models import MpesaReceipt, Payment, Refund

PURGED = "[purged]"
BATCH_SIZE = 500


@dataclass(frozen=True)
class PurgeCounts:
    payments: int
    receipts: int
    refunds: int


def payments_purgeable(cutoff: datetime) -> QuerySet[Payment]:
    """Settled payments last changed before ``cutoff``, not purged yet."""
    settled = (Payment.Status.COMPLETED, Payment.Status.FAILED, Payment.Status.EXPIRED)
    return (
        Payment.objects.filter(status__in=settled, updated_at__lt=cutoff)
        .exclude(booking__payment_status=Booking.PaymentStatus.REFUND_DUE)
        .exclude(phone_index="")
    )


def receipts_purgeable(cutoff: datetime) -> QuerySet[MpesaReceipt]:
    """Placed receipts last changed before ``cutoff``, no refund pending."""
    open_refunds = Refund.objects.filter(
        receipt=OuterRef("pk"), status__in=Refund.OPEN_STATUSES
    )
    placed = (MpesaReceipt.Allocation.ALLOCATED, MpesaReceipt.Allocation.REFUNDED)
    return (
        MpesaReceipt.objects.filter(allocation__in=placed, updated_at__lt=cutoff)
        .exclude(booking__payment_status=Booking.PaymentStatus.REFUND_DUE)
        .exclude(Exists(open_refunds))
        .exclude(payer_name=PURGED)
        .exclude(Q(payer_phone="") & Q(payer_name=""))
    )


def refunds_purgeable(cutoff: datetime) -> QuerySet[Refund]:
    """Final refunds last changed before ``cutoff`` that name a phone."""
    return (
        Refund.objects.filter(updated_at__lt=cutoff)
        .exclude(status__in=Refund.OPEN_STATUSES)
        .exclude(recipient_phone_index="")
    )


def personal_data_purge(*, cutoff: datetime, dry_run: bool = False) -> PurgeCounts:
    """Replace the phones and names of what is purgeable at ``cutoff``
    with ``PURGED``; returns how many rows (would) change. Each batch is
    one transaction on its rows, locked; ``dry_run`` writes nothing."""
    counts = PurgeCounts(
        payments=payments_purgeable(cutoff).count(),
        receipts=receipts_purgeable(cutoff).count(),
        refunds=refunds_purgeable(cutoff).count(),
    )
    if not dry_run:
        _in_batches(lambda: payments_purgeable(cutoff), _purge_payments)
        _in_batches(lambda: receipts_purgeable(cutoff), _purge_receipts)
        _in_batches(lambda: refunds_purgeable(cutoff), _purge_refunds)
    return counts


def _in_batches(select, purge) -> None:
    while True:
        with transaction.atomic():
            ids = list(
                select()
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")
                .values_list("pk", flat=True)[:BATCH_SIZE]
            )
            if not ids:
                return
            # Checked again under the lock: the row may have moved on.
            purge(select().filter(pk__in=ids))


def _purge_payments(rows: QuerySet[Payment]) -> None:
    rows.exclude(paid_phone_number="").update(
        paid_phone_number=PURGED, paid_phone_index=""
    )
    rows.update(phone_number=PURGED, phone_index="", phone_masked_key="")


def _purge_receipts(rows: QuerySet[MpesaReceipt]) -> None:
    rows.update(
        payer_phone=PURGED,
        payer_name=PURGED,
        payer_phone_index="",
        payer_phone_masked_key="",
    )


def _purge_refunds(rows: QuerySet[Refund]) -> None:
    rows.update(recipient_phone=PURGED, recipient_phone_index="")
