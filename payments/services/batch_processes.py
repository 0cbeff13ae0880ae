"""``query_pending --processes N``: the claimed payments queried by N processes.

One process's threads share one interpreter lock: with Daraja answering in
100 ms, 16 threads spend more time waiting for the lock (each answer is
parsed, stored raw and applied in Python) than for Daraja. Here the parent
claims the payments once (``payment_claim_pending``, ``SKIP LOCKED``), forks
N children that each query their share on ``concurrency / N`` threads under
``rate / N`` of the rate limit, and gathers their outcomes. Each child opens
its own database connections and Daraja client; the parent's are closed
before the fork so that no connection is shared.

For the command only: a Celery worker's pool processes cannot fork
children of their own, so the beat task stays in one process.
"""

import math
import multiprocessing
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import wait

from django.db import connections

from payments.models import Payment
from payments.services import daraja_client
from payments.services.batch import (
    ReconciliationSummary,
    payment_claim_pending,
    payment_query_claimed,
)
from payments.services.reconciliation import QueryAnswer, QueryOutcome


def payment_reconcile_pending_in_processes(
    *,
    processes: int,
    older_than: int,
    limit: int | None,
    concurrency: int,
    dry_run: bool,
    rate_per_second: float,
    on_outcome: Callable[[QueryOutcome], None] | None = None,
) -> ReconciliationSummary:
    """As ``payment_reconcile_pending``, on ``processes`` forked processes.

    A child that dies (or raises) has its unreported payments counted as
    errors: they stay open and claimed until ``MPESA_QUERY_CLAIM_SECONDS``
    passes, then the next sweep asks again.
    """
    daraja_client.daraja()  # fail on bad settings before claiming
    ids = payment_claim_pending(older_than=older_than, limit=limit, dry_run=dry_run)
    summary = ReconciliationSummary()
    if not ids:
        return summary
    processes = max(1, min(processes, len(ids)))
    threads = max(1, math.ceil(concurrency / processes))
    context = multiprocessing.get_context("fork")
    connections.close_all()
    readers = []
    for share in (ids[i::processes] for i in range(processes)):
        reader, writer = context.Pipe(duplex=False)
        child = context.Process(
            target=_child,
            args=(share, threads, dry_run, rate_per_second / processes, writer),
            daemon=True,
        )
        child.start()
        writer.close()  # the child's end: EOF here once the child is gone
        readers.append((reader, child))
    reported = _gather(readers, summary, on_outcome)
    for payment_id in ids:
        if payment_id not in reported:
            summary.add(_lost(payment_id))
    return summary


def _gather(readers, summary: ReconciliationSummary, on_outcome) -> set[int]:
    """Every outcome the children send, until each one's pipe is closed."""
    reported: set[int] = set()
    open_readers = {reader: child for reader, child in readers}
    while open_readers:
        for reader in wait(list(open_readers)):
            try:
                message = reader.recv()
            except Exception:
                # EOF: the child finished or died; or it died mid-message
                # (half a pickle). Either way its unreported payments become
                # errors (the caller's ``_lost``).
                open_readers.pop(reader).join()
                reader.close()
                continue
            payment_id, before, after, answer, detail = message
            outcome = QueryOutcome(
                payment_id, before, after, QueryAnswer(answer), detail
            )
            reported.add(payment_id)
            summary.add(outcome)
            if on_outcome:
                on_outcome(outcome)
    return reported


def _child(share, threads, dry_run, rate, writer) -> None:
    """One process's share: its own connections, client and thread pool."""
    send_lock = threading.Lock()

    def report(outcome: QueryOutcome) -> None:
        message = (
            outcome.payment_id,
            outcome.before,
            outcome.after,
            str(outcome.answer),
            outcome.detail,
        )
        with send_lock:
            writer.send(message)

    try:
        connections.close_all()  # never the parent's (closed before the fork)
        payment_query_claimed(
            share,
            concurrency=threads,
            dry_run=dry_run,
            client=daraja_client.daraja(),
            rate_per_second=rate,
            on_outcome=report,
        )
    except BaseException:  # its unreported payments are counted by the parent
        traceback.print_exc()
    finally:
        connections.close_all()
        writer.close()


def _lost(payment_id: int) -> QueryOutcome:
    current = (
        Payment.objects.filter(pk=payment_id).values_list("status", flat=True).first()
        or ""
    )
    detail = "its query process stopped before reporting; the next sweep asks again"
    return QueryOutcome(payment_id, current, current, QueryAnswer.ERROR, detail)
