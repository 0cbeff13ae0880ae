"""Celery tasks of the bookings app: thin wrappers around services."""

import logging

from celery import shared_task

from bookings.services import booking_expire_holds

logger = logging.getLogger(__name__)


@shared_task
def booking_expire_holds_task() -> int:
    """Expire pending bookings whose payment hold ran out (periodic).

    Returns how many were expired; schedule it every minute in
    ``CELERY_BEAT_SCHEDULE``.
    """
    try:
        expired = booking_expire_holds()
    except Exception:
        logger.exception("Expiring booking holds failed")
        raise
    if expired:
        logger.info("Expired %s booking holds", expired)
    return expired
