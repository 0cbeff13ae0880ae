"""``manage.py rotate_field_keys``: re-encrypt personal data with the first
key of ``FIELD_ENCRYPTION_KEYS`` (docs/personal-data.md, key rotation).

Put the new key first, keep the old ones after it, deploy, run this, then
drop the old keys. Idempotent: a second run rewrites nothing.
"""

from django.core.management.base import BaseCommand

from payments.services.field_keys import field_keys_rotate


class Command(BaseCommand):
    help = "Re-encrypt every encrypted column with the first field key."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options) -> None:
        rewritten = field_keys_rotate(batch_size=batch_size)
        for table, count in rewritten.items():
            self.stdout.write(f"{table}: {count} rows re-encrypted")
        self.stdout.write(f"total: {sum(rewritten.values())} rows re-encrypted")
