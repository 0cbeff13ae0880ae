"""What ``import_statement`` and ``mpesa_pull_transactions`` share: who
imports (``--user``) and how an import's summary is printed."""

import json

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.management.base import CommandError, OutputWrapper

from payments.services.system_user import refund_system_user
from statements.services.importing import ImportResult

# The summary keys printed one per line (``--json`` prints them all).
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


def import_user(username: str) -> AbstractBaseUser:
    """The ``--user`` named, or the system user; ``CommandError`` if none."""
    if not username:
        return refund_system_user()
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise CommandError(f"no user {username!r}") from None


def write_import_result(
    out: OutputWrapper, result: ImportResult, *, as_json: bool, what: str
) -> None:
    """The summary as one JSON object, or a line per ``SHOWN`` key; ``what``
    names the import in "This ... was imported before"."""
    summary = {"import_id": result.statement_import.pk, **result.summary}
    if not result.created:
        summary["already_imported"] = True
    if as_json:
        out.write(json.dumps(summary, sort_keys=True))
        return
    if not result.created:
        out.write(f"This {what} was imported before: nothing changed.")
    for key in SHOWN:
        out.write(f"{key.replace('_', ' ')}: {summary.get(key)}")
