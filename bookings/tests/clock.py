"""The tests' clock: the frozen "now", "tomorrow" and ``at()`` for a
Nairobi wall-clock time on a test day. One place, so that every test
speaks of the same day."""

from datetime import date, datetime, time

from bookings.availability import local_datetime
from core.time import NAIROBI

# Tuesday 1 December 2026, 08:00 in Nairobi; "tomorrow" is a Wednesday.
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=NAIROBI)
TOMORROW = date(2026, 12, 2)


def at(hour: int, minute: int = 0, day: date = TOMORROW) -> datetime:
    """``hour:minute`` in Nairobi on ``day`` (tomorrow unless given)."""
    return local_datetime(day, time(hour, minute))
