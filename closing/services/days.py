"""Nairobi days: their bounds, and the ledger's receipts of a day."""

from datetime import date, datetime, timedelta

from django.db.models import QuerySet
from django.db.models.functions import Coalesce

from payments.models import MpesaReceipt
from payments.reporting import nairobi_midnight, nairobi_today

# The first day the daily close knows: long before any M-Pesa money of
# ours, and far from the calendar's edge (year 1's Nairobi midnight is not
# a UTC time Python can hold). Earlier days are refused where they come in.
FIRST_DAY = date(2000, 1, 1)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Midnight in Nairobi at the start of ``day`` and of the next day."""
    return nairobi_midnight(day), nairobi_midnight(day + timedelta(days=1))


def day_is_over(day: date) -> bool:
    """Whether the Nairobi day has ended (so its books can be closed)."""
    return day < nairobi_today()


def receipts_between(start: datetime, end: datetime) -> QuerySet[MpesaReceipt]:
    """Receipts of [start, end) by when M-Pesa says they happened, else
    when we recorded them (as the reconciliation page counts them)."""
    return MpesaReceipt.objects.alias(
        at=Coalesce("transacted_at", "created_at")
    ).filter(at__gte=start, at__lt=end)


def receipts_of_day(day: date) -> QuerySet[MpesaReceipt]:
    """The ledger's receipts of the day, both directions, oldest first."""
    start, end = day_bounds(day)
    return receipts_between(start, end).order_by("at", "id")
