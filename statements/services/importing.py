"""Import M-Pesa's record of our shortcode: ``statement_import`` (a file)
and ``rows_import`` (any ``StatementRow``s: the file's, or Pull
Transactions' later).

The file is parsed and checked whole before anything is written (one
receipt twice in the rows with different values is refused:
``StatementFormatError``; an exact repeat is one row). Then, in one
transaction, the import and every new row (kept raw, ``pending``); rows
an earlier import holds (same receipt, direction and reason type) merge
into it. Then each pending line, this import's and those of an earlier
import cut short that it merged into, is applied in its own transaction
holding the line's row, through the payments owners (their locks keep a
callback arriving meanwhile from counting the money twice); a merged row
that says something else than its line is recorded as a
``conflicting_row`` discrepancy (``conflicts``); the summary is stored. The
same file again changes nothing; an import cut short resumes its pending
lines when run again.
"""

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from statements.models import Outcome, StatementImport, StatementLine
from statements.parsing import (
    StatementFormatError,
    StatementHeader,
    parse_statement,
)
from statements.rows import StatementRow
from statements.services.conflicts import conflicts_record, line_key, row_facts
from statements.services.facts import SOURCES, LineResult
from statements.services.money_in import money_in_apply
from statements.services.money_out import money_out_apply
from statements.services.summary import import_summarise

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ImportResult:
    statement_import: StatementImport
    created: bool

    @property
    def summary(self) -> dict:
        return self.statement_import.summary


def statement_import(
    *, data: bytes, filename: str, user: AbstractBaseUser
) -> ImportResult:
    """Import an org portal statement file (CSV or XLSX). The same file
    again returns its earlier import, unchanged. Raises
    ``StatementFormatError`` (nothing written) when it is not one."""
    digest = hashlib.sha256(data).hexdigest()
    done = StatementImport.objects.filter(sha256=digest, finished_at__isnull=False)
    if done.exists():
        return ImportResult(done.get(), created=False)
    parsed = parse_statement(data, filename)
    return rows_import(
        rows=parsed.rows,
        source="statement",
        sha256=digest,
        user=user,
        header=parsed.header,
        filename=filename,
    )


def rows_import(
    *,
    rows: Iterable[StatementRow],
    source: str,
    sha256: str,
    user: AbstractBaseUser,
    header: StatementHeader | None = None,
    filename: str = "",
) -> ImportResult:
    """Store ``rows`` (source ``statement`` or ``pull``), apply each new
    one, and summarise. Side effects: ledger receipts and sightings,
    bookings paid, payments settled or sent to review, all through their
    owners."""
    rows = list(rows)
    _refuse_conflicting_duplicates(rows)
    distinct = _without_repeats(rows)
    header = header or _header_from_rows(distinct)
    record, created = _store(distinct, source, sha256, user, header, filename)
    for line_id in _pending_line_ids(record, distinct):
        line_apply(line_id=line_id, source=source)
    conflicts_record(statement_import=record, rows=distinct)
    import_summarise(statement_import=record, rows=distinct, file_rows=len(rows))
    if record.finished_at is None:
        record.finished_at = timezone.now()
        record.save(update_fields=["finished_at", "updated_at"])
    logger.info("statement import %s: %s", record.pk, record.summary)
    return ImportResult(record, created)


def _refuse_conflicting_duplicates(rows: list[StatementRow]) -> None:
    """One receipt twice (same direction and reason type) must say the
    same both times; otherwise which one M-Pesa meant is unknown, and
    picking one would hide money. Raises ``StatementFormatError``."""
    first: dict[tuple[str, str, str], tuple[int, StatementRow]] = {}
    for number, row in enumerate(rows, start=1):
        seen = first.setdefault(line_key(row), (number, row))
        if seen[0] != number and row_facts(seen[1]) != row_facts(row):
            raise StatementFormatError(
                f"receipt {row.receipt_number} is on rows {seen[0]} and "
                f"{number} with different values (paid in "
                f"{seen[1].paid_in} and {row.paid_in}, withdrawn "
                f"{seen[1].withdrawn} and {row.withdrawn}): not imported"
            )


def _without_repeats(rows: list[StatementRow]) -> list[StatementRow]:
    """The rows, each line key once (the first): the portal repeats a row
    exactly across a page break, and a repeat is one receipt, counted
    once. Conflicting repeats were refused before."""
    seen: set[tuple[str, str, str]] = set()
    distinct = []
    for row in rows:
        key = line_key(row)
        if key not in seen:
            seen.add(key)
            distinct.append(row)
    return distinct


def _pending_line_ids(record: StatementImport, rows: list[StatementRow]) -> list:
    """This import's pending lines, and those of an earlier import (cut
    short) that rows of this one merged into: each applied once, under
    its row lock (``line_apply``)."""
    keys = {line_key(row) for row in rows}
    merged = StatementLine.objects.filter(
        outcome=Outcome.PENDING,
        receipt_number__in={key[0] for key in keys},
    ).exclude(statement_import=record)
    ids = [
        line.pk
        for line in merged.only("receipt_number", "direction", "reason_type")
        if (line.receipt_number, line.direction, line.reason_type) in keys
    ]
    own = record.lines.filter(outcome=Outcome.PENDING).values_list("pk", flat=True)
    return sorted({*own, *ids})


def _store(rows, source, sha256, user, header, filename):
    """The import and its new lines, in one transaction."""
    try:
        with transaction.atomic():
            record = StatementImport.objects.create(
                sha256=sha256,
                filename=filename[:255],
                source=source,
                period_start=header.period_start,
                period_end=header.period_end,
                account_holder=header.account_holder[:128],
                short_code=header.short_code[:32],
                opening_balance=header.opening_balance,
                closing_balance=header.closing_balance,
                total_paid_in=header.total_paid_in,
                total_withdrawn=header.total_withdrawn,
                header=header.raw,
                imported_by=user,
            )
            _store_lines(record, rows)
    except IntegrityError:
        # Imported meanwhile (or cut short before): resume that import.
        return StatementImport.objects.get(sha256=sha256), False
    return record, True


def _store_lines(record: StatementImport, rows: list[StatementRow]) -> None:
    lines = [_line(record, number, row) for number, row in enumerate(rows, start=1)]
    # Rows an earlier import holds merge into it (the unique key).
    StatementLine.objects.bulk_create(lines, ignore_conflicts=True)


def _line(record: StatementImport, number: int, row: StatementRow) -> StatementLine:
    return StatementLine(
        statement_import=record,
        line_number=number,
        receipt_number=row.receipt_number,
        direction=row.direction,
        raw=row.raw,
        completion_time=row.completion_time,
        initiation_time=row.initiation_time,
        details=row.details,
        transaction_status=row.transaction_status[:32],
        paid_in=row.paid_in,
        withdrawn=row.withdrawn,
        balance=row.balance,
        reason_type=row.reason_type[:128],
        other_party_info=row.other_party_info[:255],
        linked_transaction_id=row.linked_transaction_id[:32],
        account_number=row.account_number[:64],
        amount_problem=row.amount_problem[:255],
    )


def line_apply(*, line_id: int, source: str) -> None:
    """Apply one pending line, holding its row (two imports at once apply
    it once)."""
    with transaction.atomic():
        line = StatementLine.objects.select_for_update().get(pk=line_id)
        if line.outcome != Outcome.PENDING:
            return
        result = _decide(row_of_line(line), SOURCES[source])
        line.outcome = result.outcome
        line.detail = result.detail
        line.unallocated_reason = result.unallocated_reason
        line.receipt_id = result.receipt_id
        line.payment_id = result.payment_id
        line.booking_id = result.booking_id
        line.refund_id = result.refund_id
        line.save()


def _decide(row: StatementRow, source: str) -> LineResult:
    if row.amount_problem:
        return LineResult(Outcome.UNUSABLE, row.amount_problem)
    if not row.is_completed:
        return LineResult(Outcome.NOT_COMPLETED, row.transaction_status)
    if row.amount < 1:
        return LineResult(Outcome.UNUSABLE, "no amount")
    if row.direction == "in":
        return money_in_apply(row=row, source=source)
    return money_out_apply(row=row)


def row_of_line(line: StatementLine) -> StatementRow:
    """The stored line as the row it was parsed from."""
    return StatementRow(
        receipt_number=line.receipt_number,
        completion_time=line.completion_time,
        initiation_time=line.initiation_time,
        details=line.details,
        transaction_status=line.transaction_status,
        paid_in=line.paid_in,
        withdrawn=line.withdrawn,
        balance=line.balance,
        reason_type=line.reason_type,
        other_party_info=line.other_party_info,
        linked_transaction_id=line.linked_transaction_id,
        account_number=line.account_number,
        raw=line.raw,
        amount_problem=line.amount_problem,
    )


def _header_from_rows(rows: list[StatementRow]) -> StatementHeader:
    times = [row.completion_time for row in rows if row.completion_time]
    if not times:
        return StatementHeader()
    return StatementHeader(period_start=min(times), period_end=max(times))
