"""``manage.py query_pending``: settle stuck payments by asking Daraja.

Runs the same reconciliation as the periodic beat task
(``payment_reconcile_pending``): each open payment older than
``--older-than`` seconds is STK-queried, with bounded concurrency and a
rate limit, and the answer applied through the transition service. Safe
next to callbacks and next to another copy of itself (payments are
claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL).

It then runs the refunds sweep (``refund_sweep.refunds_reconcile``:
approved refunds sent, overdue ones marked unknown and asked about with
Transaction Status, kept results matched again) and prints its counts
(``refunds`` in ``--json``; skipped with ``--dry-run``).

``--processes N`` splits the claimed payments over N forked processes
(``--concurrency`` threads in all): one process's threads share one
interpreter lock, which is what limits it at high concurrency
(``payments/services/batch_processes.py``).

Exit status 0 when it ran, even if Daraja failed for some payments (they
are reported and stay open); non-zero when it could not run at all.
"""

import argparse
import json
import logging
import threading
from collections import Counter

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.db import DatabaseError

from payments.daraja.types import config_from_settings
from payments.services.batch import ReconciliationSummary, payment_reconcile_pending
from payments.services.batch_processes import payment_reconcile_pending_in_processes
from payments.services.reconciliation import QueryAnswer, QueryOutcome
from payments.services.refund_sweep import refunds_reconcile

logger = logging.getLogger(__name__)

# Rows of the summary table: (key in ReconciliationSummary.as_dict(), label).
SUMMARY_ROWS = (
    ("examined", "examined"),
    ("completed", "completed"),
    ("failed", "failed"),
    ("expired", "expired"),
    ("still_pending", "still pending"),
    ("needs_review", "needs review"),
    ("unchanged", "unchanged"),
    ("errors", "errors"),
)


def _count(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a whole number"
            ) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        return value

    return parse


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


class Progress:
    """A one-line running count, rewritten in place (terminals only)."""

    def __init__(self, out: OutputWrapper) -> None:
        self._out = out
        self._counts: Counter = Counter()
        self._lock = threading.Lock()

    def __call__(self, outcome: QueryOutcome) -> None:
        with self._lock:
            self._counts[outcome.answer] += 1
            done = sum(self._counts.values())
            detail = ", ".join(f"{k} {v}" for k, v in sorted(self._counts.items()))
            self._out.write(f"\rqueried {done}: {detail}", ending="")
            self._out.flush()

    def finish(self) -> None:
        if self._counts:
            self._out.write("")


class Command(BaseCommand):
    help = (
        "Query Daraja (STK Push Query) about initiated/pending payments older "
        "than --older-than seconds and apply each answer."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--older-than",
            type=_count(0),
            default=60,
            metavar="SECONDS",
            help="only payments started at least this long ago (default 60)",
        )
        parser.add_argument(
            "--concurrency",
            type=_count(1),
            default=4,
            help="queries in flight at once (default 4)",
        )
        parser.add_argument(
            "--processes",
            type=_count(1),
            default=1,
            help="processes sharing the queries (default 1; --concurrency is "
            "the total number of threads)",
        )
        parser.add_argument(
            "--limit",
            type=_count(1),
            default=None,
            help="query at most this many payments, oldest first",
        )
        parser.add_argument(
            "--rate",
            type=_rate,
            default=None,
            metavar="PER_SECOND",
            help="queries per second (default MPESA_QUERY_RATE_PER_SECOND)",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="query Daraja and print the answers; change nothing",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help="print a machine-readable summary instead of the table",
        )

    def handle(self, *args, **options) -> None:
        """Run the reconciliation and report it; see the module docstring.

        Raises:
            CommandError: Daraja is not configured or the database failed.
        """
        try:
            config_from_settings(settings)
        except ImproperlyConfigured as exc:
            raise CommandError(f"Cannot query Daraja: {exc}") from exc
        on_tty = self.stdout.isatty() and not options["as_json"]
        progress = Progress(self.stdout) if on_tty else None
        summary = self._run(options, progress)
        if progress:
            progress.finish()
        refunds = None if options["dry_run"] else self._refunds()
        if options["as_json"]:
            document = summary_document(summary, options)
            document["refunds"] = refunds
            self.stdout.write(json.dumps(document, indent=2))
            return
        if refunds is not None:  # first: the payments' summary ends the output
            self.stdout.write(refunds_table(refunds))
        self._write_report(summary, dry_run=options["dry_run"])

    def _refunds(self) -> dict[str, int]:
        """The refunds sweep (the beat's "reconcile-refunds"), once."""
        try:
            return refunds_reconcile().as_dict()
        except DatabaseError as exc:
            logger.exception("query_pending could not sweep the refunds")
            raise CommandError(f"Database error: {exc}") from exc

    def _run(self, options: dict, progress: Progress | None) -> ReconciliationSummary:
        common = {
            "older_than": options["older_than"],
            "limit": options["limit"],
            "concurrency": options["concurrency"],
            "dry_run": options["dry_run"],
            "on_outcome": progress,
        }
        try:
            if options["processes"] > 1:
                return payment_reconcile_pending_in_processes(
                    processes=options["processes"],
                    rate_per_second=options["rate"]
                    or settings.MPESA_QUERY_RATE_PER_SECOND,
                    **common,
                )
            return payment_reconcile_pending(rate_per_second=options["rate"], **common)
        except ImproperlyConfigured as exc:
            raise CommandError(f"Cannot query Daraja: {exc}") from exc
        except DatabaseError as exc:
            logger.exception("query_pending could not read the payments")
            raise CommandError(f"Database error: {exc}") from exc

    def _write_report(self, summary: ReconciliationSummary, *, dry_run: bool) -> None:
        if dry_run:
            self.stdout.write("Dry run: Daraja was queried, nothing was changed.")
        for outcome in sorted(summary.outcomes, key=lambda o: o.payment_id):
            self.stdout.write(describe(outcome, dry_run=dry_run))
        self.stdout.write(summary_table(summary))
        errors = summary.as_dict()["errors"]
        if errors:
            self.stderr.write(
                f"{errors} payment(s) could not be queried; they stay open and "
                "the next run will try again."
            )


# Answers that name no status a payment would move to.
_NOT_A_MOVE = (QueryAnswer.STILL_PENDING, QueryAnswer.ERROR, QueryAnswer.UNCHANGED)


def describe(outcome: QueryOutcome, *, dry_run: bool = False) -> str:
    """One line per payment: its move (or would-be move) and Daraja's words."""
    detail = f"  ({outcome.detail})" if outcome.detail else ""
    if outcome.changed:
        move = f"{outcome.before} -> {outcome.after}"
    elif dry_run and outcome.answer not in _NOT_A_MOVE:
        move = f"{outcome.before} -> {outcome.answer} (not applied)"
    else:
        move = f"{outcome.after}, {outcome.answer.replace('_', ' ')}"
    return f"payment {outcome.payment_id}: {move}{detail}"


def summary_table(summary: ReconciliationSummary) -> str:
    """The end-of-run table, one count per line."""
    counts = summary.as_dict()
    width = max(len(label) for _, label in SUMMARY_ROWS)
    lines = ["", "Summary"]
    lines += [f"  {label:<{width}}  {counts[key]:>6}" for key, label in SUMMARY_ROWS]
    return "\n".join(lines)


def refunds_table(counts: dict[str, int]) -> str:
    """The refunds sweep's counts, one per line."""
    width = max(len(key) for key in counts)
    lines = ["", "Refunds"]
    lines += [
        f"  {key.replace('_', ' '):<{width}}  {value:>6}"
        for key, value in counts.items()
    ]
    return "\n".join(lines)


def summary_document(summary: ReconciliationSummary, options: dict) -> dict:
    """The ``--json`` output: options, counts and every outcome."""
    return {
        "dry_run": options["dry_run"],
        "older_than": options["older_than"],
        "summary": summary.as_dict(),
        "outcomes": [
            {
                "payment_id": o.payment_id,
                "before": o.before,
                "after": o.after,
                "answer": o.answer,
                "detail": o.detail,
            }
            for o in sorted(summary.outcomes, key=lambda o: o.payment_id)
        ],
    }
