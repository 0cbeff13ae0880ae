"""``python manage.py mpesa_pull_register``: register ``MPESA_C2B_SHORT_CODE``
for Pull Transactions with ``MPESA_PULL_NOMINATED_NUMBER`` and
``MPESA_PULL_CALLBACK_URL`` (once per shortcode; production only).

Prints Daraja's answer (it holds no secret); a refusal exits non-zero.
The exchange is stored as a ``daraja_exchange`` event.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from payments.daraja.exceptions import DarajaError, DarajaRejected
from payments.services.pull import PullNotConfigured, pull_register


class Command(BaseCommand):
    help = "Register the Paybill shortcode for Daraja's Pull Transactions."

    def handle(self, *args, **options):
        try:
            result = pull_register()
        except PullNotConfigured as exc:
            raise CommandError(f"nothing sent: {exc.message}") from exc
        except DarajaRejected as exc:
            lines = [f"Daraja refused: {exc.error_code} {exc.error_message}"]
            if exc.raw:
                lines.append(json.dumps(exc.raw))
            raise CommandError("\n".join(lines)) from exc
        except DarajaError as exc:
            raise CommandError(f"Daraja could not be reached: {exc}") from exc
        state = "was already registered" if result.already_registered else "registered"
        self.stdout.write(
            f"{result.short_code} {state} for Pull Transactions. Daraja answered:"
        )
        self.stdout.write(json.dumps(result.raw))
