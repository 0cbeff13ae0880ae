"""``python manage.py mpesa_register_c2b_urls [--api-version v1|v2]
[--response-type Completed|Cancelled]``: register our C2B confirmation and
validation URLs on ``MPESA_C2B_SHORT_CODE``.

Prints Daraja's answer; on a refusal, prints it with what it means
(``500.003.1001`` already registered, ``401.003.01`` wrong API version)
and exits non-zero. The exchange is stored as a ``daraja_exchange`` event.
"""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from payments.daraja.exceptions import DarajaError, DarajaRejected
from payments.services.c2b_registration import (
    C2BUrlsUnusable,
    c2b_register_urls,
    explanation,
)


class Command(BaseCommand):
    help = "Register the C2B (Paybill) confirmation and validation URLs."

    def add_arguments(self, parser):
        parser.add_argument("--api-version", choices=("v1", "v2"), default="v1")
        parser.add_argument(
            "--response-type", choices=("Completed", "Cancelled"), default="Completed"
        )

    def handle(self, *args, **options):
        short_code = settings.MPESA_C2B_SHORT_CODE
        try:
            result = c2b_register_urls(
                api_version=options["api_version"],
                response_type=options["response_type"],
            )
        except C2BUrlsUnusable as exc:
            raise CommandError(f"nothing sent: {exc.message}") from exc
        except DarajaRejected as exc:
            lines = [f"Daraja refused: {exc.error_code} {exc.error_message}"]
            if exc.raw:
                lines.append(json.dumps(exc.raw))
            if explanation(exc):
                lines.append(explanation(exc))
            raise CommandError("\n".join(lines)) from exc
        except DarajaError as exc:
            raise CommandError(f"Daraja could not be reached: {exc}") from exc
        self.stdout.write(
            f"C2B URLs registered on {short_code} ({options['api_version']}, "
            f"ResponseType {options['response_type']}). Daraja answered:"
        )
        self.stdout.write(json.dumps(result.raw))
