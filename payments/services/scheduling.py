"""Queueing follow-up work after a transaction commits."""

import logging

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)


def schedule_payment_query(*, payment_id: int, countdown: int | None = None) -> None:
    """After commit, query Daraja about the payment if no callback came.

    A broker outage must not fail the request that already committed the
    payment: the periodic reconciliation sweeps every open payment anyway.
    ``payments.tasks`` is imported lazily because it imports the services.
    """
    from payments.tasks import payment_query_task

    delay = settings.MPESA_FOLLOW_UP_QUERY_SECONDS if countdown is None else countdown

    def enqueue() -> None:
        try:
            payment_query_task.apply_async((payment_id,), countdown=delay)
        except Exception:  # broker down: the beat sweep will pick it up
            logger.exception("could not queue a query for payment %s", payment_id)

    transaction.on_commit(enqueue)
