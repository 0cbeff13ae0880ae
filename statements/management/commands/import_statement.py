"""``manage.py import_statement FILE [--json] [--user NAME]``: import an
M-Pesa org portal statement (CSV or XLSX) and match it against the ledger.

Prints the summary (``--json``: one JSON object). Exit status 1 with the
reason when the file is not a statement (nothing is written).
"""

import argparse
import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from payments.services.system_user import refund_system_user
from statements.parsing import StatementFormatError
from statements.services.importing import statement_import

SHOWN = (
    "lines",
    "matched",
    "recovered",
    "allocated",
    "unallocated",
    "amount_mismatch",
    "missing_from_statement",
    "unexplained_withdrawal",
    "paid_in_total",
    "withdrawn_total",
    "ledger_in_total",
    "ledger_out_total",
    "difference",
)


class Command(BaseCommand):
    help = "Import an M-Pesa org portal statement and match it against the ledger."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--json", action="store_true", help="print JSON")
        parser.add_argument(
            "--user", default="", help="who imports it (default: the system user)"
        )

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
        user = self._user(options["user"])
        try:
            result = statement_import(data=data, filename=path.name, user=user)
        except StatementFormatError as exc:
            raise CommandError(str(exc)) from exc
        summary = {"import_id": result.statement_import.pk, **result.summary}
        if not result.created:
            summary["already_imported"] = True
        if options["json"]:
            self.stdout.write(json.dumps(summary, sort_keys=True))
            return
        if not result.created:
            self.stdout.write("This file was imported before: nothing changed.")
        for key in SHOWN:
            self.stdout.write(f"{key.replace('_', ' ')}: {summary.get(key)}")

    def _user(self, username: str):
        if not username:
            return refund_system_user()
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user {username!r}") from None
