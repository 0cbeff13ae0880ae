"""Nairobi's calendar days for the staff console's figures.

Today's date in Nairobi and the aware midnight that starts a day: the
bounds every per-day figure (the reconciliation page, the daily close) is
counted between.
"""

from datetime import date, datetime, timedelta

from django.utils import timezone

from core.time import NAIROBI


def nairobi_today(*, now: datetime | None = None) -> date:
    """Today's date in Nairobi."""
    return timezone.localtime(now or timezone.now(), NAIROBI).date()


def nairobi_midnight(day: date) -> datetime:
    """Midnight in Nairobi at the start of ``day`` (aware)."""
    return datetime(day.year, day.month, day.day, tzinfo=NAIROBI)


def nairobi_day_start(*, days_ago: int = 0, now: datetime | None = None) -> datetime:
    """Midnight in Nairobi ``days_ago`` days before today (aware)."""
    return nairobi_midnight(nairobi_today(now=now) - timedelta(days=days_ago))
