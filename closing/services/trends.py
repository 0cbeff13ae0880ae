"""The last days' trend for the close page's chart: money in per day and
the share of STK pushes that succeeded. Three grouped queries."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from closing.services.days import day_bounds
from core.time import NAIROBI
from payments.models import Payment
from payments.reporting import money_in_per_day

TREND_DAYS = 30


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One Nairobi day: the ledger's money in (KES) and its STK pushes."""

    day: date
    money_in: int
    pushes: int
    pushes_completed: int

    @property
    def success_percent(self) -> int | None:
        """Completed pushes as a whole percentage; None without pushes."""
        if not self.pushes:
            return None
        return round(100 * self.pushes_completed / self.pushes)


def day_trend(*, last_day: date, days: int = TREND_DAYS) -> list[TrendPoint]:
    """``days`` points, oldest first, ending with ``last_day``.

    A push is a payment started that day; it succeeded if it is now
    completed. Money in is the ledger's STK, Paybill and Till receipts
    (as ``day_figures``' ``money_in`` total)."""
    first_day = last_day - timedelta(days=days - 1)
    money = {
        row.day: row.stk + row.paybill + row.till
        for row in money_in_per_day(first_day=first_day, last_day=last_day)
    }
    pushes = _pushes_per_day(first_day, last_day)
    every_day = (first_day + timedelta(days=n) for n in range(days))
    return [
        TrendPoint(day, money.get(day, 0), *pushes.get(day, (0, 0)))
        for day in every_day
    ]


def _pushes_per_day(first_day: date, last_day: date) -> dict[date, tuple[int, int]]:
    since, until = day_bounds(first_day)[0], day_bounds(last_day)[1]
    rows = (
        Payment.objects.filter(created_at__gte=since, created_at__lt=until)
        .annotate(day=TruncDate("created_at", tzinfo=NAIROBI))
        .order_by()
        .values("day")
        .annotate(
            n=Count("pk"), ok=Count("pk", filter=Q(status=Payment.Status.COMPLETED))
        )
    )
    return {row["day"]: (row["n"], row["ok"]) for row in rows}
