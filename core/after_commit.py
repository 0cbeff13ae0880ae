"""Queue a Celery task by its name once the current transaction commits.

For follow-ups that must never fail or slow the work that committed (a
notice after a payment): a broker outage is logged, never raised. Naming
the task keeps the caller from importing the app that owns it.
"""

import logging

from celery import current_app
from django.db import transaction

from core.broker import publish_options

logger = logging.getLogger(__name__)


def queue_after_commit(
    task_name: str, *arguments: int | str, countdown: int | None = None
) -> None:
    """After commit, ``apply_async`` the task ``task_name`` with
    ``arguments`` (``countdown`` seconds later); nothing is queued if the
    transaction rolls back."""

    def enqueue() -> None:
        try:
            current_app.tasks[task_name].apply_async(
                arguments, countdown=countdown, **publish_options(arguments)
            )
        except Exception:  # broker down or task failed eagerly: log only
            logger.exception("could not queue %s for %s", task_name, arguments)

    transaction.on_commit(enqueue)
