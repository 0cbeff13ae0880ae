"""Rows that say something else about a receipt than a line holds.

A line is one receipt, direction and Reason Type (``line_key``). Inside one
file, two such rows with other values are refused (``importing``). Across
files, the earlier import's line stays as it is (the later row is not
applied: it merges into that line) and the later import records a
``conflicting_row`` discrepancy: the earlier line, this file's row raw,
what differs; a payment the line paid goes to ``needs_review``
(``statement_amount_mismatch``) when the amounts differ. The rest of the
file imports as usual.
"""

from django.db import transaction

from core.money import format_kes
from payments.models import Payment
from payments.services.transitions import payment_send_to_review
from statements.models import StatementDiscrepancy, StatementImport, StatementLine
from statements.rows import StatementRow

Kind = StatementDiscrepancy.Kind
LineKey = tuple[str, str, str]


def line_key(row: StatementRow) -> LineKey:
    """A line's identity across imports (``statement_line_once``)."""
    return (row.receipt_number, row.direction, row.reason_type[:128])


def row_facts(row: StatementRow) -> tuple:
    """What two rows of one line must agree on, as a line stores it."""
    return (
        row.paid_in,
        row.withdrawn,
        row.amount_problem[:255],
        row.transaction_status[:32].strip().lower(),
        row.account_number[:64].strip().upper(),
        row.completion_time,
    )


def line_facts(line: StatementLine) -> tuple:
    return (
        line.paid_in,
        line.withdrawn,
        line.amount_problem,
        line.transaction_status.strip().lower(),
        line.account_number.strip().upper(),
        line.completion_time,
    )


def conflicts_record(
    *, statement_import: StatementImport, rows: list[StatementRow]
) -> None:
    """Record each row (distinct by ``line_key``) whose line an earlier
    import holds with other values. Idempotent (an import run again).
    Side effects: the line's payment to review when the amounts differ."""
    for line, row in _conflicts(statement_import, rows):
        with transaction.atomic():
            item, created = StatementDiscrepancy.objects.get_or_create(
                statement_import=statement_import,
                kind=Kind.CONFLICTING_ROW,
                line=line,
                defaults={
                    "receipt_id": line.receipt_id,
                    "payment_id": line.payment_id,
                    "booking_id": line.booking_id,
                    "amount": row.paid_in or row.withdrawn,
                    "raw": row.raw,
                    "detail": _detail(line, row),
                },
            )
        if (
            created
            and line.payment_id
            and line.amount != (row.paid_in or row.withdrawn)
        ):
            payment_send_to_review(
                payment_id=line.payment_id,
                code=Payment.ReviewCode.STATEMENT_AMOUNT_MISMATCH,
                reason=item.detail,
                only_if_open=False,
            )


def _conflicts(statement_import: StatementImport, rows: list[StatementRow]):
    by_key = {line_key(row): row for row in rows}
    earlier = StatementLine.objects.filter(
        receipt_number__in={key[0] for key in by_key}
    ).exclude(statement_import=statement_import)
    for line in earlier.order_by("pk"):
        row = by_key.get((line.receipt_number, line.direction, line.reason_type))
        if row is not None and row_facts(row) != line_facts(line):
            yield line, row


def _detail(line: StatementLine, row: StatementRow) -> str:
    return (
        f"receipt {line.receipt_number} ({line.reason_type or 'no reason type'}): "
        f"this file shows paid in {format_kes(row.paid_in)}, withdrawn "
        f"{format_kes(row.withdrawn)}, status {row.transaction_status!r}, "
        f"account {row.account_number!r}; import {line.statement_import_id} "
        f"holds paid in {format_kes(line.paid_in)}, withdrawn "
        f"{format_kes(line.withdrawn)}, status {line.transaction_status!r}, "
        f"account {line.account_number!r} ({line.get_outcome_display()}). "
        "The earlier line stands; this row was not applied"
    )
