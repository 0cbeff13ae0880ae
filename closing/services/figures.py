"""One Nairobi day's figures: what the daily close shows and snapshots.

``day_figures(day)`` returns plain JSON (whole KES integers, no floats):

- ``money_in``: the ledger's receipts coming in that day per channel
  (``stk``, ``paybill``, ``till``) and ``total``, each ``{count, amount}``;
- ``refunds_out``: the ledger's receipts going out (reversals, B2C);
- ``fees``: the statement's charge rows of that day;
- ``statement``: what M-Pesa's record (imported statements and Pull
  Transactions) shows for the day, or None when nothing imported touches
  it; ``covered`` says whether the imports' periods span the whole day,
  ``not_counted`` counts its rows not completed or with unusable amounts;
  a receipt both pulled and on a statement counts once, as the
  statement's line;
- ``differences``: ledger minus statement (None unless ``covered``);
- ``open_items``: what staff must still settle (``open_items.py``).

A receipt's day is when M-Pesa says it happened, else when we recorded it
(as on the reconciliation page); a statement line's is its completion
time. Day boundaries are midnight in Nairobi.
"""

from datetime import date, datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from closing.services.days import day_bounds, receipts_between
from closing.services.open_items import day_open_items
from payments.models import MpesaReceipt
from payments.reporting import MONEY_IN_CHANNELS
from statements.models import Outcome, StatementImport, StatementLine

Direction = MpesaReceipt.Direction
# The statement's withdrawals, by what the import made of them.
WITHDRAWN_KINDS = {
    "refunds": (Outcome.REFUND,),
    "charges": (Outcome.CHARGE,),
    "settlements": (Outcome.SETTLEMENT,),
    "unexplained": (Outcome.UNEXPLAINED_WITHDRAWAL,),
}


def day_figures(day: date) -> dict:
    """The figures of one Nairobi day (see the module docstring). Reads
    only; a handful of grouped queries whatever the day's volume."""
    start, end = day_bounds(day)
    money_in = _money_in(start, end)
    refunds_out = _total(receipts_between(start, end).filter(direction=Direction.OUT))
    statement = _statement(start, end)
    fees = statement["charges"] if statement else _amount(0, 0)
    return {
        "day": day.isoformat(),
        "money_in": money_in,
        "refunds_out": refunds_out,
        "fees": fees,
        "statement": statement,
        "differences": _differences(money_in["total"], refunds_out, statement),
        "open_items": day_open_items(start=start, end=end),
    }


def _amount(count: int, amount: int | None) -> dict:
    return {"count": count, "amount": amount or 0}


def _total(rows: QuerySet) -> dict:
    found = rows.aggregate(n=Count("pk"), kes=Sum("amount"))
    return _amount(found["n"], found["kes"])


def _money_in(start: datetime, end: datetime) -> dict:
    grouped = (
        receipts_between(start, end)
        .filter(direction=Direction.IN)
        .order_by()
        .values("channel")
        .annotate(n=Count("pk"), kes=Sum("amount"))
    )
    channels = {channel.value: _amount(0, 0) for channel in MONEY_IN_CHANNELS}
    for row in grouped:
        channels[row["channel"]] = _amount(row["n"], row["kes"])
    channels["total"] = _amount(
        sum(c["count"] for c in channels.values()),
        sum(c["amount"] for c in channels.values()),
    )
    return channels


def _statement(start: datetime, end: datetime) -> dict | None:
    """M-Pesa's record of the day, or None when no import touches it."""
    imports = list(
        StatementImport.objects.filter(
            finished_at__isnull=False, period_start__lt=end, period_end__gte=start
        ).order_by("period_start", "pk")
    )
    lines = _once_per_receipt(
        StatementLine.objects.filter(
            completion_time__gte=start, completion_time__lt=end
        )
    )
    if not imports and not lines.exists():
        return None
    completed = lines.filter(transaction_status__iexact="completed", amount_problem="")
    found = {
        "covered": _covers(imports, start, end),
        "sources": sorted({record.source for record in imports}),
        "import_ids": [record.pk for record in imports],
        "paid_in": _line_total(completed.filter(direction="in"), "paid_in"),
        "withdrawn": _line_total(completed.filter(direction="out"), "withdrawn"),
        "not_counted": lines.exclude(pk__in=completed.values("pk")).count(),
    }
    for kind, outcomes in WITHDRAWN_KINDS.items():
        rows = completed.filter(direction="out", outcome__in=outcomes)
        found[kind] = _line_total(rows, "withdrawn")
    return found


def _once_per_receipt(lines: QuerySet[StatementLine]) -> QuerySet[StatementLine]:
    """The lines without a Pull line whose receipt (and direction) a
    statement also shows: the two are one receipt, on two lines because
    their Reason Types differ, and the statement's line is M-Pesa's own
    record. Lines of one source never repeat a receipt with one reason
    type (``statement_line_once``); a charge carrying its transaction's
    receipt number is its own money and stays."""
    on_statement = StatementLine.objects.filter(
        receipt_number=OuterRef("receipt_number"),
        direction=OuterRef("direction"),
        statement_import__source=StatementImport.Source.STATEMENT,
    )
    return lines.exclude(
        Q(statement_import__source=StatementImport.Source.PULL) & Exists(on_statement)
    )


def _line_total(lines: QuerySet[StatementLine], column: str) -> dict:
    found = lines.aggregate(n=Count("pk"), kes=Sum(column))
    return _amount(found["n"], found["kes"])


def _covers(imports: list[StatementImport], start: datetime, end: datetime) -> bool:
    """Whether the imports' periods together span [start, end). A period
    ends at its last second (``To 02-12-2026 23:59:59``), so it reaches
    one second further."""
    reached = start
    for record in imports:
        if record.period_start > reached:
            return False
        reached = max(reached, record.period_end + timedelta(seconds=1))
        if reached >= end:
            return True
    return False


def _differences(ledger_in: dict, refunds_out: dict, statement: dict | None) -> dict:
    """Ledger minus statement: 0 when they agree; None without a
    statement spanning the whole day (a part of a day proves nothing)."""
    if statement is None or not statement["covered"]:
        return {"money_in": None, "money_in_count": None, "refunds_out": None}
    return {
        "money_in": ledger_in["amount"] - statement["paid_in"]["amount"],
        "money_in_count": ledger_in["count"] - statement["paid_in"]["count"],
        "refunds_out": refunds_out["amount"] - statement["refunds"]["amount"],
    }
