"""Parse the M-Pesa org portal's statement export (CSV or XLSX).

``parse_statement(data, filename)`` reads everything before writing
anything: the header block (account holder, short code, time period,
balances, totals), then every row under the header row that starts with
``Receipt No.``. Columns are found by their names (their order has changed
over the years); unknown columns are kept in ``raw``; the optional ones
may be missing. Any problem raises ``StatementFormatError`` naming what is
missing or which row and column is wrong. Pure: no Django models.
"""

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime

from statements.header import StatementFormatError, StatementHeader, header_parse
from statements.rows import StatementRow
from statements.values import (
    MAX_BALANCE,
    MAX_ROW_AMOUNT,
    ValueFormatError,
    amount_in_range,
    parse_amount,
    parse_time,
    whole_shillings,
)
from statements.xlsx import XlsxReadError, xlsx_rows

RECEIPT = "Receipt No."
REQUIRED_COLUMNS = (
    RECEIPT,
    "Completion Time",
    "Transaction Status",
    "Paid In",
    "Withdrawn",
)
OPTIONAL_COLUMNS = (
    "Initiation Time",
    "Details",
    "Balance",
    "Balance Confirmed",
    "Reason Type",
    "Other Party Info",
    "Linked Transaction ID",
    "A/C No.",
)
_RECEIPT_FORMAT = re.compile(r"[A-Z0-9]{1,20}")


@dataclass(frozen=True, slots=True)
class ParsedStatement:
    header: StatementHeader
    rows: list[StatementRow]


def parse_statement(data: bytes, filename: str = "") -> ParsedStatement:
    """The statement in ``data`` (XLSX by its zip signature or name, else
    CSV). Raises ``StatementFormatError``."""
    table = _table(data, filename)
    start = _header_row_index(table)
    columns = [cell.strip() for cell in table[start]]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise StatementFormatError(
            "not an M-Pesa statement: missing column(s) " + ", ".join(missing)
        )
    header = header_parse(table[:start])
    rows = _rows(table[start + 1 :], columns, first_line=start + 2)
    if header.period_start is None:
        header = _period_from_rows(header, rows)
    return ParsedStatement(header=header, rows=rows)


def _table(data: bytes, filename: str) -> list[list[str]]:
    table = _cells(data, filename)
    for number, cells in enumerate(table, start=1):
        for column, cell in enumerate(cells, start=1):
            if "\x00" in cell:
                # The database stores no NUL in text (PostgreSQL refuses it).
                raise StatementFormatError(
                    f"line {number}, cell {column} contains a NUL character: "
                    "not an M-Pesa statement export"
                )
    return table


def _cells(data: bytes, filename: str) -> list[list[str]]:
    if not data:
        raise StatementFormatError("the file is empty")
    if data[:2] == b"PK" or filename.lower().endswith((".xlsx", ".xlsm")):
        try:
            return xlsx_rows(data)
        except XlsxReadError as exc:
            raise StatementFormatError(str(exc)) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        raise StatementFormatError(f"not a readable CSV file ({exc})") from exc


def _header_row_index(table: list[list[str]]) -> int:
    for index, row in enumerate(table):
        # It starts with Receipt No. today; column order has changed before.
        if RECEIPT in (cell.strip() for cell in row):
            return index
    raise StatementFormatError(
        f"not an M-Pesa statement: missing: {RECEIPT} header row"
    )


def _rows(
    lines: list[list[str]], columns: list[str], *, first_line: int
) -> list[StatementRow]:
    rows: list[StatementRow] = []
    for offset, cells in enumerate(lines):
        if not any(cell.strip() for cell in cells):
            continue
        raw = {
            name: (cells[i].strip() if i < len(cells) else "")
            for i, name in enumerate(columns)
            if name
        }
        try:
            rows.append(_row(raw))
        except ValueFormatError as exc:
            raise StatementFormatError(f"line {first_line + offset}: {exc}") from exc
    return rows


def _row(raw: dict[str, str]) -> StatementRow:
    receipt = raw[RECEIPT].strip().upper()
    if not _RECEIPT_FORMAT.fullmatch(receipt):
        raise ValueFormatError(
            f"{RECEIPT} {raw[RECEIPT]!r} is not 1-20 letters and digits"
        )
    paid_in, withdrawn, problem = _amounts(raw)
    return StatementRow(
        receipt_number=receipt,
        completion_time=_time(raw, "Completion Time"),
        initiation_time=_time(raw, "Initiation Time"),
        details=raw.get("Details", ""),
        transaction_status=raw["Transaction Status"],
        paid_in=paid_in,
        withdrawn=withdrawn,
        balance=_balance(raw),
        reason_type=raw.get("Reason Type", ""),
        other_party_info=raw.get("Other Party Info", ""),
        linked_transaction_id=raw.get("Linked Transaction ID", "").upper(),
        account_number=raw.get("A/C No.", ""),
        raw=raw,
        amount_problem=problem,
    )


def _amounts(raw: dict[str, str]) -> tuple[int, int, str]:
    """Paid In and Withdrawn as whole shillings (a withdrawal's sign is
    dropped: the column says which way it went)."""
    paid_in = _column_amount(raw, "Paid In")
    withdrawn = _column_amount(raw, "Withdrawn")
    problems = []
    if paid_in is not None and paid_in < 0:
        problems.append(f"Paid In {raw['Paid In']} is negative")
    results = []
    for name, amount in (("Paid In", paid_in), ("Withdrawn", withdrawn)):
        whole = whole_shillings(None if amount is None else abs(amount))
        if whole is None:
            problems.append(f"{name} {raw[name]} is not whole shillings")
            whole = 0
        results.append(whole)
    if problems:
        return 0, 0, "; ".join(problems)
    return results[0], results[1], ""


def _column_amount(raw: dict[str, str], name: str, limit: int = MAX_ROW_AMOUNT):
    try:
        amount = parse_amount(raw.get(name, ""))
    except ValueFormatError as exc:
        raise ValueFormatError(f"{name}: {exc}") from exc
    amount_in_range(amount, name=name, limit=limit)
    return amount


def _balance(raw: dict[str, str]) -> int | None:
    amount = _column_amount(raw, "Balance", MAX_BALANCE)
    if amount is None:
        return None
    return int(amount.to_integral_value())


def _time(raw: dict[str, str], name: str) -> datetime | None:
    try:
        return parse_time(raw.get(name, ""))
    except ValueFormatError as exc:
        raise ValueFormatError(f"{name}: {exc}") from exc


def _period_from_rows(
    header: StatementHeader, rows: list[StatementRow]
) -> StatementHeader:
    """No Time Period in the block: the rows' first and last times."""
    times = [row.completion_time for row in rows if row.completion_time]
    if not times:
        return header
    fields = {name: getattr(header, name) for name in StatementHeader.__slots__}
    fields.update(period_start=min(times), period_end=max(times))
    return StatementHeader(**fields)
