"""Notices' Celery tasks: interfaces that call one service each.

bookings and payments queue the ``notice_queue_*`` tasks by name after
their transaction commits (``core.after_commit``).
"""

from celery import shared_task
from django.conf import settings

from notices.services import (
    NoticeSendFailed,
    notice_queue_booking_paid,
    notice_queue_payment_failed,
    notice_queue_refund_completed,
    notice_send,
)


@shared_task
def notice_booking_paid_task(booking_id: int) -> list[int]:
    """Queue the confirmation notices of a booking just paid."""
    return notice_queue_booking_paid(booking_id=booking_id)


@shared_task
def notice_payment_failed_task(payment_id: int) -> list[int]:
    """Queue the client's notice of a failed payment."""
    return notice_queue_payment_failed(payment_id=payment_id)


@shared_task
def notice_refund_completed_task(refund_id: int) -> list[int]:
    """Queue the client's notice of a completed refund."""
    return notice_queue_refund_completed(refund_id=refund_id)


@shared_task(
    bind=True,
    autoretry_for=(NoticeSendFailed,),
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=settings.NOTICE_SEND_MAX_RETRIES,
)
def notice_send_task(self, notice_id: int) -> bool:
    """Send one notice (once, however often this runs)."""
    return notice_send(notice_id=notice_id)
