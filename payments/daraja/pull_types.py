"""Pull Transactions answers as values, and the reading of their rows.

Field names (../shared/daraja.md §6 and §10, docs/simulator.md "Statement
and Pull Transactions"): rows carry ``transactionId``, ``trxDate`` (ISO),
``msisdn``, ``transactiontype``, ``billreference``, ``amount`` and
``organizationname``, wrapped in ``ResponseCode`` "1000" ("1001": none)
under ``Response`` (a list of rows, or a list holding one list of rows:
both seen, so both read).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from core.time import NAIROBI

FOUND = "1000"
NONE_FOUND = "1001"


@dataclass(frozen=True, slots=True)
class PullRegistration:
    """Daraja's answer to ``/pulltransactions/v1/register``."""

    short_code: str
    response_status: str
    response_description: str
    response_ref_id: str
    raw: dict

    @property
    def already_registered(self) -> bool:
        """True when Daraja says the shortcode was registered before."""
        return "already" in self.response_description.lower()


@dataclass(frozen=True, slots=True)
class PullTransaction:
    """One C2B transaction as Pull Transactions reports it.

    ``msisdn`` is kept as given (it may come masked or hashed). ``amount``
    is whole KES, or None when the text is not a whole number of shillings
    (``amount_text`` keeps what came; such a row needs a person).
    ``trx_date`` is aware: a time without an offset is Nairobi's.
    """

    transaction_id: str
    trx_date: datetime
    msisdn: str
    transaction_type: str
    bill_reference: str
    amount: int | None
    amount_text: str
    organization_name: str
    raw: dict

    @property
    def amount_is_whole(self) -> bool:
        """False when the amount has cents or is unreadable."""
        return self.amount is not None


@dataclass(frozen=True, slots=True)
class PullPage:
    """One page of a Pull Transactions query, from row ``offset``.

    ``unreadable`` holds rows without a receipt or a readable date: kept
    (never dropped in silence) for a person to look at.
    """

    rows: tuple[PullTransaction, ...]
    unreadable: tuple[dict, ...]
    offset: int
    response_code: str
    response_message: str
    raw: dict

    @property
    def size(self) -> int:
        """Rows on the page, readable or not (what the next offset adds)."""
        return len(self.rows) + len(self.unreadable)


def page_rows(body: dict) -> list[Any]:
    """The rows under ``Response``, flattened one level."""
    found = body.get("Response")
    if isinstance(found, dict):
        return [found]
    if not isinstance(found, list):
        return []
    rows: list[Any] = []
    for item in found:
        if isinstance(item, list):
            rows.extend(item)
        else:
            rows.append(item)
    return rows


def read_row(row: Any) -> PullTransaction | None:
    """A row as a ``PullTransaction``; None without a receipt or date."""
    if not isinstance(row, dict):
        return None
    transaction_id = _text(row.get("transactionId"))
    trx_date = _moment(_text(row.get("trxDate")))
    if not transaction_id or trx_date is None:
        return None
    amount_text = _text(row.get("amount"))
    return PullTransaction(
        transaction_id=transaction_id,
        trx_date=trx_date,
        msisdn=_text(row.get("msisdn")),
        transaction_type=_text(row.get("transactiontype")),
        bill_reference=_text(row.get("billreference")),
        amount=whole_shillings(amount_text),
        amount_text=amount_text,
        organization_name=_text(row.get("organizationname")),
        raw=row,
    )


def whole_shillings(text: str) -> int | None:
    """``"1,500.00"`` -> 1500; ``"15.50"``, ``""`` or ``"-3"`` -> None."""
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value != value.to_integral_value():
        return None
    return int(value)


def _moment(text: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=NAIROBI)
    return moment


def _text(value: Any) -> str:
    if value is None or isinstance(value, bool | dict | list):
        return ""
    return str(value).strip()
