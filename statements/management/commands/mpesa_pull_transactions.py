"""``manage.py mpesa_pull_transactions [--hours 2] [--json] [--user NAME]``:
fetch the last hours of Daraja's Pull Transactions and match them against
the ledger like statement rows (source ``pull``).

Prints the summary keys of ``import_statement`` (``--json``: one JSON
object). Exit status 1 with the reason when Pull is not configured or
Daraja fails (nothing but the stored exchanges is written).
"""

import argparse
import json

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from payments.daraja.exceptions import DarajaError, DarajaRejected
from payments.services.pull import PullNotConfigured
from payments.services.system_user import refund_system_user
from statements.management.commands.import_statement import SHOWN
from statements.services.pull_import import PullImportError, pull_transactions_import


class Command(BaseCommand):
    help = "Fetch Daraja's Pull Transactions and match them against the ledger."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--hours", type=int, default=2, help="how far back (1-47, default 2)"
        )
        parser.add_argument("--json", action="store_true", help="print JSON")
        parser.add_argument(
            "--user", default="", help="who imports it (default: the system user)"
        )

    def handle(self, *args, **options) -> None:
        user = self._user(options["user"])
        try:
            result = pull_transactions_import(hours=options["hours"], user=user)
        except PullImportError as exc:
            raise CommandError(str(exc)) from exc
        except PullNotConfigured as exc:
            raise CommandError(f"nothing sent: {exc.message}") from exc
        except ImproperlyConfigured as exc:
            raise CommandError(f"nothing sent: {exc}") from exc
        except DarajaRejected as exc:
            raise CommandError(
                f"Daraja refused: {exc.error_code} {exc.error_message}; "
                "nothing imported"
            ) from exc
        except DarajaError as exc:
            raise CommandError(
                f"Daraja could not be reached: {exc}; nothing imported"
            ) from exc
        summary = {"import_id": result.statement_import.pk, **result.summary}
        if not result.created:
            summary["already_imported"] = True
        if options["json"]:
            self.stdout.write(json.dumps(summary, sort_keys=True))
            return
        if not result.created:
            self.stdout.write("This pull was imported before: nothing changed.")
        for key in SHOWN:
            self.stdout.write(f"{key.replace('_', ' ')}: {summary.get(key)}")

    def _user(self, username: str):
        if not username:
            return refund_system_user()
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user {username!r}") from None
