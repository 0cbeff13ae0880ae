"""``manage.py mpesa_pull_transactions [--hours 2] [--json] [--user NAME]``:
fetch the last hours of Daraja's Pull Transactions and match them against
the ledger like statement rows (source ``pull``).

Prints the summary keys of ``import_statement`` (``--json``: one JSON
object). Exit status 1 with the reason when Pull is not configured or
Daraja fails (nothing but the stored exchanges is written).
"""

import argparse

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from payments.daraja.exceptions import DarajaError, DarajaRejected
from payments.services.pull import PullNotConfigured
from statements.management.import_output import import_user, write_import_result
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
        user = import_user(options["user"])
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
        write_import_result(self.stdout, result, as_json=options["json"], what="pull")
