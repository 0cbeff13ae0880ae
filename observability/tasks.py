"""Celery tasks of observability (beat runs them by name)."""

import logging

from celery import shared_task

from observability.alerting import alerts_check

logger = logging.getLogger(__name__)


@shared_task(name="observability.tasks.alerts_check_task", ignore_result=True)
def alerts_check_task() -> int:
    """Beat "check-alerts" (every 60 s): check every alert condition; the
    number of alerts that started or cleared. Never raises."""
    try:
        changes = alerts_check()
    except Exception:  # task boundary: log, and let the next minute retry
        logger.exception("checking the alerts failed")
        return 0
    return len(changes)
