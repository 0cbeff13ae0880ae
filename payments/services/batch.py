"""``payment_reconcile_pending``: query every stuck payment, safely in bulk.

Used by ``manage.py query_pending`` and the periodic beat task. Payments
are claimed in a short transaction (``SELECT ... FOR UPDATE SKIP LOCKED``
on PostgreSQL) by stamping ``last_queried_at``, so two copies running at
once query different payments; queries then run on a bounded thread pool
under a shared rate limit, one try/except per payment.
"""

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from payments.daraja.client import DarajaClient
from payments.exceptions import PaymentProviderUnavailable
from payments.models import Payment
from payments.services import daraja_client
from payments.services.reconciliation import QueryAnswer, QueryOutcome, payment_query

logger = logging.getLogger(__name__)


@dataclass
class ReconciliationSummary:
    """Counts per answer, plus every outcome in order of completion."""

    examined: int = 0
    counts: Counter = field(default_factory=Counter)
    outcomes: list[QueryOutcome] = field(default_factory=list)

    def add(self, outcome: QueryOutcome) -> None:
        self.examined += 1
        self.counts[outcome.answer] += 1  # a StrEnum: counts by its value
        self.outcomes.append(outcome)

    def as_dict(self) -> dict:
        return {
            "examined": self.examined,
            "completed": self.counts[QueryAnswer.COMPLETED],
            "failed": self.counts[QueryAnswer.FAILED],
            "expired": self.counts[QueryAnswer.EXPIRED],
            "needs_review": self.counts[QueryAnswer.NEEDS_REVIEW],
            "still_pending": self.counts[QueryAnswer.STILL_PENDING],
            "unchanged": self.counts[QueryAnswer.UNCHANGED],
            "errors": self.counts[QueryAnswer.ERROR],
        }


class RateLimiter:
    """At most ``per_second`` acquisitions per second across threads."""

    def __init__(self, per_second: float) -> None:
        self._interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            now = time.monotonic()
            wait = self._next - now
            self._next = max(now, self._next) + self._interval
        if wait > 0:
            time.sleep(wait)


def payment_claim_pending(
    *, older_than: int, limit: int | None, dry_run: bool
) -> list[int]:
    """Ids of open payments older than ``older_than`` seconds, claimed."""
    now = timezone.now()
    candidates = Payment.objects.filter(
        status__in=Payment.OPEN_STATUSES,
        created_at__lte=now - timedelta(seconds=older_than),
    ).order_by("created_at")
    if dry_run:
        return list(candidates.values_list("pk", flat=True)[:limit])
    unclaimed = candidates.exclude(
        last_queried_at__gt=now - timedelta(seconds=settings.MPESA_QUERY_CLAIM_SECONDS)
    )
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            unclaimed = unclaimed.select_for_update(skip_locked=True, of=("self",))
        ids = list(unclaimed.values_list("pk", flat=True)[:limit])
        Payment.objects.filter(pk__in=ids).update(last_queried_at=now)
    return ids


def payment_reconcile_pending(
    *,
    older_than: int = 60,
    limit: int | None = None,
    concurrency: int = 4,
    dry_run: bool = False,
    client: DarajaClient | None = None,
    rate_per_second: float | None = None,
    on_outcome: Callable[[QueryOutcome], None] | None = None,
) -> ReconciliationSummary:
    """Query Daraja for every stuck open payment and apply each answer.

    Side effects: as ``payment_query`` for each payment. Never raises for
    one payment's failure; it is counted as an error and the batch goes on.
    """
    client = client or daraja_client.daraja()  # fail on bad settings before claiming
    ids = payment_claim_pending(older_than=older_than, limit=limit, dry_run=dry_run)
    return payment_query_claimed(
        ids,
        concurrency=concurrency,
        dry_run=dry_run,
        client=client,
        rate_per_second=rate_per_second or settings.MPESA_QUERY_RATE_PER_SECOND,
        on_outcome=on_outcome,
    )


def payment_query_claimed(
    ids: list[int],
    *,
    concurrency: int,
    dry_run: bool,
    client: DarajaClient,
    rate_per_second: float,
    on_outcome: Callable[[QueryOutcome], None] | None = None,
) -> ReconciliationSummary:
    """Query each of ``ids`` (already claimed) on ``concurrency`` threads."""
    limiter = RateLimiter(rate_per_second)
    summary = ReconciliationSummary()
    lock = threading.Lock()

    def work(payment_id: int) -> None:
        limiter.acquire()
        outcome = _query_one(payment_id, client=client, dry_run=dry_run)
        with lock:
            summary.add(outcome)
        if on_outcome:
            on_outcome(outcome)

    if concurrency <= 1:
        for payment_id in ids:
            work(payment_id)
    else:
        _run_on_threads(work, ids, threads=concurrency)
    return summary


def _run_on_threads(
    work: Callable[[int], None], ids: list[int], *, threads: int
) -> None:
    """Run ``work`` over ``ids`` on ``threads`` threads, each with one
    database connection for its whole share (closed when it is done)."""
    pending: queue.SimpleQueue[int] = queue.SimpleQueue()
    for payment_id in ids:
        pending.put(payment_id)

    def drain() -> None:
        try:
            while True:
                try:
                    payment_id = pending.get_nowait()
                except queue.Empty:
                    return
                work(payment_id)
        finally:
            connection.close()  # this thread's own connection

    workers = [threading.Thread(target=drain) for _ in range(min(threads, len(ids)))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def _query_one(payment_id: int, *, client: DarajaClient, dry_run: bool) -> QueryOutcome:
    try:
        return payment_query(payment_id=payment_id, client=client, dry_run=dry_run)
    except PaymentProviderUnavailable as exc:  # counted; the next sweep asks
        return _error_outcome(payment_id, exc.message)
    except Exception as exc:  # one payment's bug must not stop the batch
        logger.exception("reconciliation of payment %s failed", payment_id)
        return _error_outcome(payment_id, repr(exc))


def _error_outcome(payment_id: int, detail: str) -> QueryOutcome:
    status = Payment.objects.filter(pk=payment_id).values_list("status", flat=True)
    current = status.first() or ""
    return QueryOutcome(payment_id, current, current, QueryAnswer.ERROR, detail)
