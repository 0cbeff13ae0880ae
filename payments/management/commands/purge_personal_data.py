"""``manage.py purge_personal_data --older-than DAYS [--dry-run]``: replace
the phone numbers and names of settled payments, receipts and refunds older
than the retention period with a marker (docs/personal-data.md).

``--older-than`` defaults to ``PERSONAL_DATA_RETENTION_DAYS``; with neither,
the command refuses to guess. ``--dry-run`` counts and writes nothing.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from payments.services.purge import personal_data_purge


class Command(BaseCommand):
    help = "Purge phone numbers and names past the retention period."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--older-than", type=int, metavar="DAYS", default=None)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, older_than: int | None, dry_run: bool, **options):
        days = older_than if older_than is not None else _retention_days()
        if days < 1:
            raise CommandError("--older-than must be at least 1 day.")
        cutoff = timezone.now() - timedelta(days=days)
        counts = personal_data_purge(cutoff=cutoff, dry_run=dry_run)
        verb = "would purge" if dry_run else "purged"
        self.stdout.write(
            f"{verb} (older than {days} days): {counts.payments} payments, "
            f"{counts.receipts} receipts, {counts.refunds} refunds"
        )


def _retention_days() -> int:
    days = settings.PERSONAL_DATA_RETENTION_DAYS
    if days is None:
        raise CommandError(
            "Give --older-than DAYS or set PERSONAL_DATA_RETENTION_DAYS."
        )
    return days
