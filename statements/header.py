"""The statement's header block: account holder, short code, time period,
balances and totals, as ``Label: value`` cells. Pure; no Django."""

import re
from dataclasses import dataclass, field
from datetime import datetime

from statements.values import (
    MAX_BALANCE,
    ValueFormatError,
    amount_in_range,
    parse_amount,
    parse_time,
    whole_shillings,
)

_PERIOD = re.compile(r"from\s+(.+?)\s+to\s+(.+)$", re.IGNORECASE)
# Header-block labels we read (lower case, without the colon).
_LABELS = {
    "account holder": "account_holder",
    "organization name": "account_holder",
    "short code": "short_code",
    "shortcode": "short_code",
    "account": "account",
    "time period": "time_period",
    "operator": "operator",
    "report date": "report_date",
    "opening balance": "opening_balance",
    "closing balance": "closing_balance",
    "available balance": "available_balance",
    "total paid in": "total_paid_in",
    "total withdrawn": "total_withdrawn",
}


class StatementFormatError(ValueError):
    """The file is not a statement we can read; the message says why."""


@dataclass(frozen=True, slots=True)
class StatementHeader:
    account_holder: str = ""
    short_code: str = ""
    account: str = ""
    period_start: datetime | None = None
    period_end: datetime | None = None
    operator: str = ""
    report_date: str = ""
    opening_balance: int | None = None
    closing_balance: int | None = None
    available_balance: int | None = None
    total_paid_in: int | None = None
    total_withdrawn: int | None = None
    # Every label: value pair of the block, as written.
    raw: dict[str, str] = field(default_factory=dict)


def header_parse(block: list[list[str]]) -> StatementHeader:
    raw: dict[str, str] = {}
    for row in block:
        for label, value in _pairs([cell.strip() for cell in row]):
            raw.setdefault(label, value)
    values: dict[str, str] = {}
    for label, value in raw.items():
        name = _LABELS.get(label.lower())
        if name:
            values.setdefault(name, value)
    start, end = _period(values.get("time_period", ""))
    return StatementHeader(
        account_holder=values.get("account_holder", ""),
        short_code=values.get("short_code", ""),
        account=values.get("account", ""),
        period_start=start,
        period_end=end,
        operator=values.get("operator", ""),
        report_date=values.get("report_date", ""),
        opening_balance=_header_amount(values, "opening_balance"),
        closing_balance=_header_amount(values, "closing_balance"),
        available_balance=_header_amount(values, "available_balance"),
        total_paid_in=_header_amount(values, "total_paid_in"),
        total_withdrawn=_header_amount(values, "total_withdrawn"),
        raw=raw,
    )


def _pairs(cells: list[str]):
    """``Label: value`` in one cell, or ``Label:`` and the next cell."""
    index = 0
    while index < len(cells):
        cell = cells[index]
        label, colon, value = cell.partition(":")
        if colon and label.strip():
            value = value.strip()
            if not value and index + 1 < len(cells) and not _is_label(cells[index + 1]):
                index += 1
                value = cells[index]
            yield label.strip(), value
        index += 1


def _is_label(cell: str) -> bool:
    label, colon, _ = cell.partition(":")
    return bool(colon) and (cell.endswith(":") or label.strip().lower() in _LABELS)


def _period(text: str) -> tuple[datetime | None, datetime | None]:
    match = _PERIOD.search(text.strip())
    if not match:
        if text.strip():
            raise StatementFormatError(
                f"Time Period {text!r} is not 'From <time> To <time>'"
            )
        return None, None
    try:
        return parse_time(match.group(1)), parse_time(match.group(2))
    except ValueFormatError as exc:
        raise StatementFormatError(f"Time Period: {exc}") from exc


def _header_amount(values: dict[str, str], name: str) -> int | None:
    text = values.get(name, "")
    label = name.replace("_", " ")
    try:
        amount = parse_amount(text)
        amount_in_range(amount, name=label, limit=MAX_BALANCE)
    except ValueFormatError as exc:
        raise StatementFormatError(f"{label}: {exc}") from exc
    if amount is None:
        return None
    whole = whole_shillings(amount)
    return whole if whole is not None else int(amount)
