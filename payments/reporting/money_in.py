"""Money in per Nairobi day and channel, and the money not yet counted.

For the reconciliation page and the daily close: receipts coming in per
channel (STK, Paybill, till) each day, payments completed with their
receipt still pending, and the unallocated money in the ledger now.
Read-only; two grouped queries for the days, one for each total.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate

from core.time import NAIROBI
from payments.models import MpesaReceipt
from payments.reporting.days import nairobi_midnight
from payments.selectors import payments_receipt_pending

Channel = MpesaReceipt.Channel
# The channels money comes in by, in the order of the page's columns.
MONEY_IN_CHANNELS = (Channel.STK, Channel.PAYBILL, Channel.TILL)


@dataclass(frozen=True, slots=True)
class MoneyInDay:
    """Money in on one Nairobi day, in whole KES. ``total`` is the channels
    plus ``receipt_pending``; ``unallocated`` is part of the channels (the
    money of that day nobody's booking took yet), not added again."""

    day: date
    stk: int = 0
    paybill: int = 0
    till: int = 0
    receipt_pending: int = 0
    unallocated: int = 0

    @property
    def total(self) -> int:
        return self.stk + self.paybill + self.till + self.receipt_pending


@dataclass(frozen=True, slots=True)
class MoneyTotal:
    """How many, and how much (whole KES)."""

    count: int = 0
    amount: int = 0


def money_in_per_day(*, first_day: date, last_day: date) -> list[MoneyInDay]:
    """One row per Nairobi day from ``last_day`` back to ``first_day``:
    receipts coming in per channel (by ``transacted_at``, else when we
    recorded them) and payments completed with their receipt pending (by
    their transaction date, else their creation). Two grouped queries."""
    since, until = nairobi_midnight(first_day), nairobi_midnight(last_day)
    until += timedelta(days=1)
    days: dict[date, dict[str, int]] = {}
    for row in _receipts_per_day_channel(since, until):
        sums = days.setdefault(row["day"], {})
        sums[row["channel"]] = row["kes"] or 0
        sums["unallocated"] = sums.get("unallocated", 0) + (row["unallocated"] or 0)
    for row in _pending_per_day(since, until):
        days.setdefault(row["day"], {})["receipt_pending"] = row["kes"] or 0
    count = (last_day - first_day).days + 1
    every_day = (last_day - timedelta(days=n) for n in range(count))
    return [MoneyInDay(day, **days.get(day, {})) for day in every_day]


def _receipts_per_day_channel(since: datetime, until: datetime) -> QuerySet:
    unallocated = Q(allocation=MpesaReceipt.Allocation.UNALLOCATED)
    return (
        MpesaReceipt.objects.filter(
            direction=MpesaReceipt.Direction.IN, channel__in=MONEY_IN_CHANNELS
        )
        .alias(at=Coalesce("transacted_at", "created_at"))
        .filter(at__gte=since, at__lt=until)
        .annotate(day=TruncDate("at", tzinfo=NAIROBI))
        .order_by()
        .values("day", "channel")
        .annotate(kes=Sum("amount"), unallocated=Sum("amount", filter=unallocated))
    )


def _pending_per_day(since: datetime, until: datetime) -> QuerySet:
    return (
        payments_receipt_pending()
        .alias(at=Coalesce("transaction_date", "created_at"))
        .filter(at__gte=since, at__lt=until)
        .annotate(day=TruncDate("at", tzinfo=NAIROBI))
        .order_by()
        .values("day")
        .annotate(kes=Sum("amount"))
    )


def receipt_pending_total() -> MoneyTotal:
    """Payments completed with their receipt still pending (all time)."""
    row = payments_receipt_pending().aggregate(n=Count("pk"), kes=Sum("amount"))
    return MoneyTotal(row["n"], row["kes"] or 0)


def unallocated_total() -> MoneyTotal:
    """Unallocated money in the ledger now (all time)."""
    row = MpesaReceipt.objects.filter(
        allocation=MpesaReceipt.Allocation.UNALLOCATED
    ).aggregate(n=Count("pk"), kes=Sum("amount"))
    return MoneyTotal(row["n"], row["kes"] or 0)
