"""Queueing follow-up work after a transaction commits.

Services name the Celery task they queue instead of importing
``payments.tasks`` (which imports the services): tasks import services,
never the reverse. ``PaymentsConfig.ready`` imports the tasks, so they are
registered in every process.
"""

from celery import current_app
from django.conf import settings
from django.db import transaction

from core.after_commit import queue_after_commit

QUERY_TASK = "payments.tasks.payment_query_task"
VERIFY_TASK = "payments.tasks.payment_verify_callback_task"
RECEIPT_PAYER_TASK = "payments.tasks.payment_settle_from_booking_receipt_task"


def schedule_payment_query(*, payment_id: int, countdown: int | None = None) -> None:
    """After commit, query Daraja about the payment if no callback came.

    A broker outage must not fail the request that already committed the
    payment: the periodic reconciliation sweeps every open payment anyway.
    """
    delay = settings.MPESA_FOLLOW_UP_QUERY_SECONDS if countdown is None else countdown
    queue_after_commit(QUERY_TASK, payment_id, countdown=delay)


def schedule_callback_verification(*, event_id: int) -> None:
    """After commit, verify a stored callback with an STK query
    (``MPESA_VERIFY_CALLBACKS``); the sweep settles it if this is lost."""
    task = current_app.tasks[VERIFY_TASK]
    transaction.on_commit(lambda: task.delay(event_id))


def schedule_settlement_from_booking_receipt(*, receipt_number: str) -> None:
    """After commit, complete the payment of unknown outcome whose own STK
    money ``receipt_number`` just paid its booking another way (a C2B copy,
    staff). Lost with the broker: the payment then stays in review, where
    staff see the receipt on the booking."""
    queue_after_commit(RECEIPT_PAYER_TASK, receipt_number)


REFUND_SUBMIT_TASK = "payments.tasks.refund_submit_task"


def schedule_refund_submission(*, refund_id: int) -> None:
    """After commit, send an approved refund to M-Pesa (once). Lost with the
    broker: the refunds sweep sends approved refunds it finds waiting."""
    queue_after_commit(REFUND_SUBMIT_TASK, refund_id)


FAILED_NOTICE_TASK = "notices.tasks.notice_payment_failed_task"
REFUND_NOTICE_TASK = "notices.tasks.notice_refund_completed_task"


def schedule_payment_failed_notice(*, payment_id: int) -> None:
    """After commit, tell the client the payment failed (never raises)."""
    queue_after_commit(FAILED_NOTICE_TASK, payment_id)


def schedule_refund_completed_notice(*, refund_id: int) -> None:
    """After commit, tell the client the money went back (never raises)."""
    queue_after_commit(REFUND_NOTICE_TASK, refund_id)
