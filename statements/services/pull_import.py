"""Pull Transactions read like statement rows (issue 15, point 8).

``pull_transactions_import`` fetches the last ``hours`` through
``payments.services.pull.pull_fetch`` (every exchange stored raw there),
turns each ``PullTransaction`` into a ``StatementRow`` and imports them
through ``rows_import`` with source ``pull``: the matching rules 3-6 are
the statement's. The same window with the same rows is the same import
(nothing changes); overlapping windows merge by receipt. Rule 6 for a pull
is limited to what Pull returns (``summary.py``).
"""

import hashlib
import json
import logging
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone

from core.phone import mask_phone
from payments.daraja.types import PullTransaction
from payments.services.pull import PULL_WINDOW, PullNotConfigured, pull_fetch
from payments.services.system_user import refund_system_user
from statements.header import StatementHeader
from statements.models import StatementImport
from statements.parsing import StatementFormatError
from statements.rows import StatementRow
from statements.services.importing import ImportResult, rows_import

logger = logging.getLogger(__name__)

# A receipt as the statement parser accepts it (statements/parsing.py).
_RECEIPT = re.compile(r"[A-Z0-9]{1,20}")
# Pull reports money customers paid in ("c2b-pay-bill-debit": the
# customer's debit). A type naming a reversal or a credit is not money in:
# kept as an unusable line for staff rather than counted (daraja.md §10).
_NOT_MONEY_IN = ("reversal", "credit", "refund")
# An hour short of the 48 Daraja keeps: its clock and ours may differ, and
# a row it has dropped at the far edge must not look missing (rule 6).
MAX_HOURS = int(PULL_WINDOW.total_seconds() // 3600) - 1
PULL_STATUS = "Completed"


class PullImportError(ValueError):
    """The pull cannot be imported as asked; the message says why."""


def pull_transactions_import(
    *, hours: int = 2, user: AbstractBaseUser | None = None
) -> ImportResult:
    """Fetch the Pull Transactions of the last ``hours`` (1-47) and import
    them as statement rows of source ``pull``, by ``user`` (default: the
    system user).

    Side effects: Daraja requests (stored raw as events), then those of
    ``rows_import``: ledger receipts and sightings, bookings paid and
    payments settled or sent to review through their owners, one
    ``StatementImport`` (an earlier one when the window and rows are the
    same). Raises ``PullImportError`` (bad ``hours``, or one receipt with
    two different rows), ``PullNotConfigured``
    (no ``MPESA_C2B_SHORT_CODE``), ``ImproperlyConfigured`` and the client's
    ``DarajaError``s; nothing but the stored exchanges is written then.
    """
    start, end = pull_window(hours=hours)
    if not settings.MPESA_C2B_SHORT_CODE:
        raise PullNotConfigured("Set MPESA_C2B_SHORT_CODE.")
    pulled = pull_fetch(start=start, end=end)
    rows, unreadable = pull_rows(pulled)
    digest = pull_digest(start=start, end=end, rows=rows)
    done = StatementImport.objects.filter(sha256=digest, finished_at__isnull=False)
    if done.exists():
        return ImportResult(done.get(), created=False)
    try:
        result = rows_import(
            rows=rows,
            source=StatementImport.Source.PULL,
            sha256=digest,
            user=user or refund_system_user(),
            header=_header(start, end, pulled),
            filename=f"pull {_label(start)} to {_label(end)}",
        )
    except StatementFormatError as exc:  # nothing written
        raise PullImportError(f"Pull Transactions answer not imported: {exc}") from exc
    if unreadable:
        logger.warning(
            "Pull Transactions: %s rows without a usable receipt left out "
            "(stored raw with the exchange)",
            unreadable,
        )
    return result


def pull_window(*, hours: int) -> tuple[datetime, datetime]:
    """The last ``hours`` to now, whole seconds (what Daraja is sent)."""
    if isinstance(hours, bool) or not isinstance(hours, int):
        raise PullImportError("Give --hours as a whole number.")
    if not 1 <= hours <= MAX_HOURS:
        raise PullImportError(
            f"Give --hours from 1 to {MAX_HOURS}: Daraja keeps 48 hours."
        )
    end = timezone.now().replace(microsecond=0)
    return end - timedelta(hours=hours), end


def pull_rows(pulled: list[PullTransaction]) -> tuple[list[StatementRow], int]:
    """The rows to import, and how many had no usable receipt."""
    rows = [pull_row(item) for item in pulled]
    usable = [row for row in rows if _RECEIPT.fullmatch(row.receipt_number)]
    return usable, len(rows) - len(usable)


def pull_row(item: PullTransaction) -> StatementRow:
    """One Pull row as a statement row: ``transactionId`` the receipt,
    ``trxDate`` the completion time, ``billreference`` the account number,
    ``transactiontype`` the reason type, the payer's number masked (the
    line is shown to staff; the exchange keeps it raw)."""
    problem = ""
    if not item.amount_is_whole:
        problem = f"amount {item.amount_text!r} is not whole shillings"
    elif any(word in item.transaction_type.lower() for word in _NOT_MONEY_IN):
        problem = f"transaction type {item.transaction_type!r} is not money paid in"
    masked = _masked(item.msisdn)
    return StatementRow(
        receipt_number=item.transaction_id.strip().upper(),
        completion_time=item.trx_date,
        initiation_time=None,  # Pull gives one time only
        details=" ".join(
            part for part in (item.transaction_type, item.organization_name) if part
        ),
        transaction_status=PULL_STATUS,  # Pull returns completed transactions
        paid_in=0 if problem else item.amount,
        withdrawn=0,
        balance=None,
        reason_type=item.transaction_type,
        other_party_info=masked,
        linked_transaction_id="",
        account_number=item.bill_reference,
        raw={**_as_text(item.raw), "msisdn": masked},
        amount_problem=problem,
    )


def pull_digest(*, start: datetime, end: datetime, rows: list[StatementRow]) -> str:
    """The import's key: the window and what Daraja said of it."""
    content = {
        "source": "pull",
        "short_code": settings.MPESA_C2B_SHORT_CODE,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "rows": sorted(
            json.dumps(row.raw, sort_keys=True, default=str) for row in rows
        ),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _header(
    start: datetime, end: datetime, pulled: list[PullTransaction]
) -> StatementHeader:
    holder = next((p.organization_name for p in pulled if p.organization_name), "")
    return StatementHeader(
        account_holder=holder,
        short_code=settings.MPESA_C2B_SHORT_CODE,
        period_start=start,
        period_end=end,
        raw={"source": "Pull Transactions", "rows": str(len(pulled))},
    )


def _masked(msisdn: str) -> str:
    """A full number masked; a masked or hashed one kept as it came."""
    digits = msisdn.strip()
    if digits.isdigit():
        return mask_phone(digits)
    return digits[:32]


def _as_text(raw: dict) -> dict[str, str]:
    return {str(key): "" if value is None else str(value) for key, value in raw.items()}


def _label(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%d-%m-%Y %H:%M:%S")
