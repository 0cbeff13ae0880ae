"""Checking the alert conditions and telling people when one starts or
clears, once each, however many processes run the check.

The condition is read outside any transaction; the state row is then
locked (``select_for_update``) and changed only when it differs, so of two
concurrent checks one flips it and the other sees it flipped. Notices go
out after that commit and never raise.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from observability.alerts import CONDITIONS, Condition
from observability.models import AlertState
from observability.notify import alert_notify

logger = logging.getLogger(__name__)
STARTED = "started"
CLEARED = "cleared"


@dataclass(frozen=True, slots=True)
class AlertChange:
    """One condition that started or cleared in this check."""

    name: str
    change: str
    detail: str


def alerts_check(
    *, conditions: dict[str, Callable[[], Condition]] | None = None
) -> list[AlertChange]:
    """Evaluate every condition; for each that started or cleared, update
    its ``AlertState`` and send one notice (after commit). A condition that
    fails to evaluate is logged and skipped (the others still run).
    Returns the changes made."""
    changes = []
    for name, condition in (conditions or CONDITIONS).items():
        try:
            result = condition()
        except Exception:  # one broken check must not silence the others
            logger.exception("alert condition %s could not be evaluated", name)
            continue
        change = alert_state_apply(name=name, condition=result)
        if change is not None:
            changes.append(change)
    return changes


def alert_state_apply(*, name: str, condition: Condition) -> AlertChange | None:
    """Record ``condition`` for ``name`` under the state row's lock; a change
    (started or cleared) is returned and notified after commit."""
    with transaction.atomic():
        AlertState.objects.get_or_create(name=name)
        state = AlertState.objects.select_for_update().get(name=name)
        if state.active == condition.active:
            return None
        now = timezone.now()
        state.active = condition.active
        state.since = now
        state.detail = condition.detail[:2000]
        state.last_notified_at = now
        state.save(
            update_fields=[
                "active",
                "since",
                "detail",
                "last_notified_at",
                "updated_at",
            ]
        )
        change = AlertChange(
            name, STARTED if condition.active else CLEARED, condition.detail
        )
        transaction.on_commit(lambda: _notify(change))
    logger.warning("alert %s %s: %s", name, change.change, change.detail)
    return change


def _notify(change: AlertChange) -> None:
    prefix = "ALERT" if change.change == STARTED else "RESOLVED"
    alert_notify(
        subject=f"[Haki Yetu] {prefix}: {change.name}",
        text=f"{prefix}: {change.name} {change.change}. {change.detail}",
    )
