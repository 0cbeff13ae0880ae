"""The import's summary, and our side of it (rule 6).

Every ledger receipt M-Pesa says happened in the statement's period
(``transacted_at``) that the statement lacks is ``missing_from_statement``:
we believe money moved that M-Pesa does not show (a forged callback, or a
statement cut short). Totals are whole KES; ``difference`` is what the
statement shows paid in minus what the ledger holds as paid in for the
same period, measured after the import (so 0 when the two agree).

A pull (source ``pull``) shows only money paid in by C2B, and whether it
shows STK payments is uncertain (../shared/daraja.md §6): it expects only
paid-in Paybill and Till receipts of its window, settled for
``PULL_SETTLE`` before the window's end (a payment of the last minutes may
reach us before Daraja's Pull has it), and its ledger totals are those
receipts plus every receipt it showed. So a pull never reports an STK
receipt, a refund or a payment of the last minutes as missing, and
``difference`` stays 0 when the two agree.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q, Sum

from payments.models import MpesaReceipt
from statements.models import (
    DISCREPANCY_OUTCOMES,
    Outcome,
    StatementDiscrepancy,
    StatementImport,
)
from statements.rows import StatementRow

Kind = StatementDiscrepancy.Kind
PULL_CHANNELS = (MpesaReceipt.Channel.PAYBILL, MpesaReceipt.Channel.TILL)
PULL_SETTLE = timedelta(minutes=5)
COUNTED = (
    Outcome.MATCHED,
    Outcome.RECOVERED,
    Outcome.ALLOCATED,
    Outcome.UNALLOCATED,
    Outcome.AMOUNT_MISMATCH,
    Outcome.UNEXPLAINED_WITHDRAWAL,
    Outcome.REFUND,
    Outcome.CHARGE,
    Outcome.SETTLEMENT,
    Outcome.NOT_COMPLETED,
    Outcome.UNUSABLE,
    Outcome.PENDING,
)


def import_summarise(
    *,
    statement_import: StatementImport,
    rows: list[StatementRow],
    file_rows: int | None = None,
) -> dict:
    """Record the missing receipts and store the summary; returns it.
    ``rows`` are the import's distinct rows (a repeat once); ``file_rows``
    how many the file had, repeats included (default: ``len(rows)``)."""
    with transaction.atomic():
        _record_missing(statement_import, rows)
        summary = _summary(statement_import, rows, file_rows or len(rows))
        statement_import.summary = summary
        statement_import.save(update_fields=["summary", "updated_at"])
    return summary


def _in_period(statement_import: StatementImport):
    if statement_import.period_start is None or statement_import.period_end is None:
        return MpesaReceipt.objects.none()
    return MpesaReceipt.objects.filter(
        transacted_at__gte=statement_import.period_start,
        transacted_at__lte=statement_import.period_end,
    )


def _is_pull(statement_import: StatementImport) -> bool:
    return statement_import.source == StatementImport.Source.PULL


def _expected(statement_import: StatementImport):
    """The ledger receipts the record should show (rule 6's scope)."""
    receipts = _in_period(statement_import)
    if not _is_pull(statement_import):
        return receipts
    return receipts.filter(
        direction=MpesaReceipt.Direction.IN,
        channel__in=PULL_CHANNELS,
        transacted_at__lte=statement_import.period_end - PULL_SETTLE,
    )


def _ledger(statement_import: StatementImport, shown: set[str]):
    """The ledger receipts the totals compare with the record's."""
    if not _is_pull(statement_import):
        return _in_period(statement_import)
    expected = _expected(statement_import).values("pk")
    return MpesaReceipt.objects.filter(Q(pk__in=expected) | Q(receipt_number__in=shown))


def _shown(rows: list[StatementRow]) -> set[str]:
    return {row.receipt_number for row in rows if row.is_completed}


def _record_missing(
    statement_import: StatementImport, rows: list[StatementRow]
) -> None:
    shown = _shown(rows)
    for receipt in _expected(statement_import).exclude(receipt_number__in=shown):
        StatementDiscrepancy.objects.get_or_create(
            statement_import=statement_import,
            kind=Kind.MISSING_FROM_STATEMENT,
            receipt=receipt,
            defaults={
                "payment_id": receipt.payment_id,
                "booking_id": receipt.booking_id,
                "amount": receipt.amount,
                "detail": (
                    f"{receipt.get_direction_display()} by "
                    f"{receipt.get_channel_display()}, seen by "
                    + ", ".join(
                        sorted(
                            {s.get_source_display() for s in receipt.sightings.all()}
                        )
                    )
                ),
            },
        )


def _summary(
    statement_import: StatementImport, rows: list[StatementRow], file_rows: int
) -> dict:
    lines = statement_import.lines.all()
    counts = {outcome.value: 0 for outcome in COUNTED}
    for outcome in lines.values_list("outcome", flat=True):
        counts[outcome] = counts.get(outcome, 0) + 1
    completed = [row for row in rows if row.is_completed and not row.amount_problem]
    paid_in = sum(row.paid_in for row in completed)
    ledger = _ledger(statement_import, _shown(rows))
    ledger_in = _total(ledger.filter(direction=MpesaReceipt.Direction.IN))
    ledger_out = _total(ledger.filter(direction=MpesaReceipt.Direction.OUT))
    missing = statement_import.discrepancies.filter(kind=Kind.MISSING_FROM_STATEMENT)
    return {
        "lines": file_rows,
        "new_lines": lines.count(),
        "repeated": file_rows - len(rows),
        "merged": file_rows - lines.count(),
        **{key: counts[key] for key in counts if key != Outcome.PENDING},
        "pending": counts[Outcome.PENDING],
        "missing_from_statement": missing.count(),
        "conflicting_row": statement_import.discrepancies.filter(
            kind=Kind.CONFLICTING_ROW
        ).count(),
        "paid_in_total": paid_in,
        "withdrawn_total": sum(row.withdrawn for row in completed),
        "ledger_in_total": ledger_in,
        "ledger_out_total": ledger_out,
        "difference": paid_in - ledger_in,
        "discrepancies": _discrepancies(statement_import),
    }


def _total(receipts) -> int:
    return receipts.aggregate(total=Sum("amount"))["total"] or 0


def _discrepancies(statement_import: StatementImport) -> list[dict]:
    """Each discrepancy with what it links to (ids for the admin's links)."""
    found = [
        {
            "kind": line.outcome,
            "line_id": line.pk,
            "receipt": line.receipt_number,
            "receipt_id": line.receipt_id,
            "payment_id": line.payment_id,
            "booking_id": line.booking_id,
            "amount": line.amount,
            "detail": line.detail,
        }
        for line in statement_import.lines.filter(outcome__in=DISCREPANCY_OUTCOMES)
    ]
    for item in statement_import.discrepancies.select_related("receipt", "line"):
        found.append(
            {
                "kind": item.kind,
                "line_id": item.line_id,
                "receipt": item.receipt_number,
                "receipt_id": item.receipt_id,
                "payment_id": item.payment_id,
                "booking_id": item.booking_id,
                "amount": item.amount,
                "detail": item.detail,
            }
        )
    return found
