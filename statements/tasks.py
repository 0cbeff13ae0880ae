"""Celery tasks of the statements: thin interfaces over the services."""

import logging

from celery import shared_task

from statements.services.pull_import import pull_transactions_import

logger = logging.getLogger(__name__)
REPORTED = ("lines", "new_lines", "unallocated", "missing_from_statement", "difference")


@shared_task
def pull_transactions_task(hours: int = 2) -> dict:
    """Beat "pull-transactions" (``statements/schedule.py``): import the
    last ``hours`` of Pull Transactions, as ``manage.py
    mpesa_pull_transactions`` does. Not retried: the next run's window
    overlaps this one's, and its rows merge by receipt."""
    result = pull_transactions_import(hours=hours)
    summary = result.summary
    logger.info(
        "Pull Transactions import %s: %s lines, difference %s",
        result.statement_import.pk,
        summary.get("lines"),
        summary.get("difference"),
    )
    return {
        "import_id": result.statement_import.pk,
        "created": result.created,
        **{key: summary.get(key) for key in REPORTED},
    }
