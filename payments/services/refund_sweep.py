"""``refunds_reconcile``: the refunds sweep (beat "reconcile-refunds" and
``manage.py query_pending``).

1. Approved refunds waiting over ``SUBMIT_AFTER_SECONDS`` (their queued
   task lost, or M-Pesa unreachable last time) are sent (``refund_submit``
   sends each once, whoever calls it).
2. Submitted refunds with no result after ``MPESA_RESULT_WAIT_SECONDS``
   become ``unknown`` (``refund_move`` on the locked row).
3. Unknown refunds with no status check in the last
   ``MPESA_RESULT_WAIT_SECONDS`` are asked about (``status_check_send``).
4. Results of the last day that matched nothing are routed again.

Rows are claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` (and, for the
status checks, stamped ``status_checked_at`` in the claim), so several
runners at once never submit or query one refund twice. One try/except
per refund: the sweep goes on past a failure.
"""

import logging
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from payments.models import Refund
from payments.services.async_results import results_reroute_unmatched
from payments.services.refund_submission import refund_submit
from payments.services.refund_transitions import refund_move
from payments.services.status_checks import status_check_send

logger = logging.getLogger(__name__)
Status = Refund.Status
SUBMIT_AFTER_SECONDS = 30
REROUTE_WINDOW = timedelta(days=1)


@dataclass
class RefundSweepSummary:
    """What one sweep did."""

    submitted: int = 0
    marked_unknown: int = 0
    status_checks: int = 0
    results_rematched: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def refunds_reconcile(*, limit: int = 100) -> RefundSweepSummary:
    """Run the four steps above once; returns their counts.

    Side effects: Daraja requests (Reversal/B2C, Transaction Status), the
    refunds' status changes and events. Errors are logged and counted.
    """
    summary = RefundSweepSummary()
    now = timezone.now()
    wait = timedelta(seconds=settings.MPESA_RESULT_WAIT_SECONDS)
    for refund_id in _claim_approved(
        before=now - timedelta(seconds=SUBMIT_AFTER_SECONDS), limit=limit
    ):
        if _each(refund_id, "submit", summary, _submit):
            summary.submitted += 1
    summary.marked_unknown = _mark_overdue_unknown(before=now - wait, limit=limit)
    for refund_id in _claim_unknown(before=now - wait, now=now, limit=limit):
        if _each(refund_id, "status check", summary, _check):
            summary.status_checks += 1
    try:
        summary.results_rematched = results_reroute_unmatched(
            since=now - REROUTE_WINDOW
        )
    except Exception:  # the sweep's boundary: logged, counted
        logger.exception("refunds sweep: routing kept results again failed")
        summary.errors += 1
    if any(summary.as_dict().values()):
        logger.info("refunds sweep: %s", summary.as_dict())
    return summary


def _submit(refund_id: int) -> bool:
    return refund_submit(refund_id=refund_id).status != Status.APPROVED


def _check(refund_id: int) -> bool:
    status_check_send(refund_id=refund_id)
    return True


def _each(refund_id: int, what: str, summary: RefundSweepSummary, step) -> bool:
    try:
        return step(refund_id)
    except Exception:  # one refund's failure never stops the sweep
        logger.exception("refunds sweep: %s of refund %s failed", what, refund_id)
        summary.errors += 1
        return False


def _claim_approved(*, before, limit: int) -> list[int]:
    """Approved refunds waiting since before ``before`` that no other
    runner holds. ``refund_submit`` locks each again and sends it only
    while it is still ``approved``."""
    with transaction.atomic():
        return list(
            Refund.objects.filter(status=Status.APPROVED, approved_at__lte=before)
            .order_by("approved_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )


def _mark_overdue_unknown(*, before, limit: int) -> int:
    """Submitted refunds with no answer since ``before``: ``unknown``."""
    moved = 0
    with transaction.atomic():
        overdue = (
            Refund.objects.filter(status=Status.SUBMITTED, submitted_at__lte=before)
            .order_by("submitted_at", "id")
            .select_for_update(skip_locked=True)[:limit]
        )
        for refund in overdue:
            moved += refund_move(
                refund,
                to=Status.UNKNOWN,
                reason=f"no result within {settings.MPESA_RESULT_WAIT_SECONDS} s: "
                "outcome unknown, Transaction Status will ask",
            )
    return moved


def _claim_unknown(*, before, now, limit: int) -> list[int]:
    """Unknown refunds not asked about since ``before``, stamped as asked
    (``status_checked_at``) inside the claim, so no other runner asks."""
    with transaction.atomic():
        ids = list(
            Refund.objects.filter(status=Status.UNKNOWN)
            .filter(
                Q(status_checked_at__isnull=True) | Q(status_checked_at__lte=before)
            )
            .order_by("submitted_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        Refund.objects.filter(pk__in=ids).update(status_checked_at=now)
    return ids
