"""Slot arithmetic on Africa/Nairobi wall-clock time. Pure: no database.

A slot is a start time on the grid of every ``SLOT_STEP`` from the start of
an availability window at which a consultation of the asked duration still
ends inside the window. It is free when it starts after ``now`` and overlaps
no busy interval (half-open: a booking ending at 10:00 leaves 10:00 free).
"""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from core.time import NAIROBI

SLOT_STEP = timedelta(minutes=30)


def local_datetime(day: date, at: time) -> datetime:
    """The aware datetime of ``at`` on ``day`` in Africa/Nairobi."""
    return datetime.combine(day, at, tzinfo=NAIROBI)


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """Start and (exclusive) end of ``day`` in Africa/Nairobi."""
    start = local_datetime(day, time.min)
    return start, start + timedelta(days=1)


def slot_grid(
    *,
    day: date,
    windows: Iterable[tuple[time, time]],
    duration: int,
    step: timedelta = SLOT_STEP,
) -> list[datetime]:
    """Every start on ``day`` where ``duration`` minutes fit in a window."""
    length = timedelta(minutes=duration)
    starts: set[datetime] = set()
    for window_start, window_end in windows:
        cursor = local_datetime(day, window_start)
        window_close = local_datetime(day, window_end)
        while cursor + length <= window_close:
            starts.add(cursor)
            cursor += step
    return sorted(starts)


def overlaps(
    start: datetime, end: datetime, other_start: datetime, other_end: datetime
) -> bool:
    """Whether half-open ranges [start, end) and [other_start, other_end) meet."""
    return start < other_end and other_start < end


def free_slots(
    *,
    grid: Iterable[datetime],
    busy: Iterable[tuple[datetime, datetime]],
    duration: int,
    now: datetime,
) -> list[datetime]:
    """The starts of ``grid`` after ``now`` that overlap nothing in ``busy``."""
    length = timedelta(minutes=duration)
    busy = list(busy)
    return [
        start
        for start in grid
        if start > now
        and not any(overlaps(start, start + length, b, e) for b, e in busy)
    ]
