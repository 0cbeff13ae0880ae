"""Queueing follow-up work after a transaction commits."""

from django.conf import settings
from django.db import transaction


def schedule_payment_query(*, payment_id: int, countdown: int | None = None) -> None:
    """After commit, query Daraja about the payment if no callback came.

    Imported lazily: ``payments.tasks`` imports the services it runs.
    """
    from payments.tasks import payment_query_task

    delay = settings.MPESA_QUERY_AFTER_SECONDS if countdown is None else countdown
    transaction.on_commit(
        lambda: payment_query_task.apply_async((payment_id,), countdown=delay)
    )
