"""``manage.py reapply_stored_reports``: apply stored reports again.

Runs ``reports_reapply_stored`` (the hourly beat task's service): each
stored C2B confirmation or STK callback whose money never reached the
ledger is applied again, once. ``--since`` takes an ISO date or time
(Nairobi when it names no zone) or a number of hours back.

Exit status 0, or 1 when some event still fails (listed, with why).
"""

import argparse
import json
import logging
from datetime import date, datetime, time, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone

from core.time import NAIROBI
from payments.services.reapply import ReapplySummary, reports_reapply_stored

logger = logging.getLogger(__name__)

SUMMARY_ROWS = (
    ("examined", "examined"),
    ("applied", "applied"),
    ("already_in_ledger", "already in the ledger"),
    ("nothing_to_apply", "nothing to apply"),
    ("skipped_verify", "skipped (verified by query)"),
    ("unusable", "unusable"),
    ("still_failing", "still failing"),
)


def since_argument(text: str) -> datetime:
    """``48`` (hours back), ``2026-12-01`` or ``2026-12-01T10:00[+03:00]``."""
    try:
        hours = float(text)
    except ValueError:
        hours = None
    if hours is not None:
        if hours <= 0:
            raise argparse.ArgumentTypeError("hours must be positive")
        return timezone.now() - timedelta(hours=hours)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a number of hours nor an ISO date or time"
        ) from None
    if len(text) == 10:  # a date alone: from its start
        moment = datetime.combine(date.fromisoformat(text), time())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=NAIROBI)
    return moment


class Command(BaseCommand):
    help = (
        "Apply again the stored C2B confirmations and STK callbacks whose "
        "money is not in the ledger (idempotent per receipt)."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--since",
            type=since_argument,
            default=None,
            metavar="ISO-DATE-OR-HOURS",
            help="events stored from then (default: the last 7 days)",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="say what would be applied; change nothing",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help="print the counts and errors as JSON",
        )

    def handle(self, *args, **options) -> None:
        """Run once and report; see the module docstring.

        Raises:
            CommandError: (exit 1) some event still fails, or the database
                failed.
        """
        try:
            summary = reports_reapply_stored(
                since=options["since"], dry_run=options["dry_run"]
            )
        except DatabaseError as exc:
            logger.exception("reapply_stored_reports could not run")
            raise CommandError(f"Database error: {exc}") from exc
        if options["as_json"]:
            self.stdout.write(json.dumps(summary.as_dict(), indent=2))
        else:
            self.stdout.write(summary_text(summary))
        if summary.still_failing:
            raise CommandError(
                f"{summary.still_failing} stored report(s) still fail; "
                "each has a note in the event log",
                returncode=1,
            )


def summary_text(summary: ReapplySummary) -> str:
    """The counts, one a line, then each unusable or failing event."""
    counts = summary.as_dict()
    width = max(len(label) for _, label in SUMMARY_ROWS)
    lines = ["Dry run: nothing was changed."] if summary.dry_run else []
    lines.append("Stored reports")
    lines += [f"  {label:<{width}}  {counts[key]:>6}" for key, label in SUMMARY_ROWS]
    lines += [f"event {pk}: unusable: {why}" for pk, why in summary.unusable.items()]
    lines += [f"event {pk}: failed: {error}" for pk, error in summary.errors.items()]
    return "\n".join(lines)
