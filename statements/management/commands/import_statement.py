"""``manage.py import_statement FILE [--json] [--user NAME]``: import an
M-Pesa org portal statement (CSV or XLSX) and match it against the ledger.

Prints the summary (``--json``: one JSON object). Exit status 1 with the
reason when the file is not a statement (nothing is written).
"""

import argparse
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from statements.management.import_output import import_user, write_import_result
from statements.parsing import StatementFormatError
from statements.services.importing import statement_import


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
        user = import_user(options["user"])
        try:
            result = statement_import(data=data, filename=path.name, user=user)
        except StatementFormatError as exc:
            raise CommandError(str(exc)) from exc
        write_import_result(self.stdout, result, as_json=options["json"], what="file")
