"""``day_close``: the one writer of ``DailyClose``; and ``day_state``, a
day's figures beside its close (if any) and what changed since."""

import logging
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from closing.exceptions import (
    DayAlreadyClosedError,
    DayCloseNotAllowedError,
    DayNotOverError,
)
from closing.models import DailyClose
from closing.services.changes import figures_changes
from closing.services.days import day_is_over
from closing.services.figures import day_figures

logger = logging.getLogger(__name__)
CLOSE_PERMISSION = "closing.close_day"


@dataclass(frozen=True, slots=True)
class DayState:
    """A day as the close page shows it."""

    day: date
    figures: dict
    close: DailyClose | None
    # What differs from the snapshot taken at the close (empty when open).
    changes: list[str]

    @property
    def is_closed(self) -> bool:
        return self.close is not None


def day_state(*, day: date) -> DayState:
    """The day's figures now, its close, and the changes since the close."""
    figures = day_figures(day)
    close = DailyClose.objects.select_related("closed_by").filter(day=day).first()
    changes = figures_changes(before=close.snapshot, after=figures) if close else []
    return DayState(day, figures, close, changes)


def day_close(*, day: date, user: AbstractBaseUser) -> DailyClose:
    """Close the Nairobi ``day``: store who, when and its figures now.

    Side effects: one ``DailyClose`` row. Raises
    ``DayCloseNotAllowedError`` (not Finance: ``closing.close_day``),
    ``DayNotOverError`` (today or a later day) and
    ``DayAlreadyClosedError`` (closed before, or by someone else meanwhile:
    the unique day decides).
    """
    if not user.has_perm(CLOSE_PERMISSION):
        raise DayCloseNotAllowedError()
    if not day_is_over(day):
        raise DayNotOverError(
            f"{day.isoformat()} has not ended yet (Nairobi time): only a past "
            "day can be closed.",
            day=day.isoformat(),
        )
    with transaction.atomic():
        earlier = DailyClose.objects.select_for_update().filter(day=day).first()
        if earlier is not None:
            raise _already_closed(earlier)
        try:
            with transaction.atomic():
                close = DailyClose.objects.create(
                    day=day,
                    closed_by=user,
                    closed_at=timezone.now(),
                    snapshot=day_figures(day),
                )
        except IntegrityError:
            raise _already_closed(DailyClose.objects.get(day=day)) from None
    logger.info("day %s closed by user %s", day.isoformat(), user.pk)
    return close


def _already_closed(close: DailyClose) -> DayAlreadyClosedError:
    closed_at = timezone.localtime(close.closed_at)
    return DayAlreadyClosedError(
        f"{close.day.isoformat()} was already closed by {close.closed_by} on "
        f"{closed_at:%Y-%m-%d at %H:%M} (Nairobi time).",
        day=close.day.isoformat(),
    )
