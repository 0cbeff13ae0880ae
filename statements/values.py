"""Reading the statement's cells: amounts and times. Pure; no Django."""

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from core.time import NAIROBI

_CURRENCY = re.compile(r"^(kes|ksh|kshs)\.?\s*", re.IGNORECASE)
# Digits, an optional sign and fraction: no exponent ("1e999999999" would
# make Decimal build a number with a billion digits), nothing absurdly long.
_NUMBER = re.compile(r"-?\d{1,30}(\.\d{0,30})?")
# The largest amount a row (Paid In, Withdrawn) and a balance or header
# total may hold: far above M-Pesa's limits, below what the columns store.
MAX_ROW_AMOUNT = 1_000_000_000
MAX_BALANCE = 10**15
# M-Pesa began in 2007; a year far outside this is a wrong cell (and the
# first and last years would overflow on conversion to UTC).
FIRST_YEAR, LAST_YEAR = 2000, 2999
_DMY = ("%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M")


class ValueFormatError(ValueError):
    """A cell that is not what its column says (text for the message)."""


def parse_amount(text: str) -> Decimal | None:
    """``"1,000.00"``, ``"-1,000"``, ``"(250.00)"``, ``"KES 3,000"`` as a
    Decimal (negative when signed); None for an empty cell. Raises
    ``ValueFormatError`` for anything else."""
    value = _CURRENCY.sub("", text.strip()).replace(",", "").replace(" ", "")
    if not value:
        return None
    negative = value.startswith("(") and value.endswith(")")
    if negative:
        value = "-" + value[1:-1]
    if not _NUMBER.fullmatch(value):
        raise ValueFormatError(f"{_shown(text)} is not an amount")
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValueFormatError(f"{_shown(text)} is not an amount") from None


def amount_in_range(amount: Decimal | None, *, name: str, limit: int) -> None:
    """Raises ``ValueFormatError`` naming the column when ``amount`` is
    beyond ``limit`` KES either way (the row or the column is wrong)."""
    if amount is not None and abs(amount) > limit:
        raise ValueFormatError(
            f"{name} {amount:,} is out of range (at most {limit:,} KES)"
        )


def _shown(text: str) -> str:
    shown = repr(text)
    return shown if len(shown) <= 40 else f"{shown[:37]}...'"


def whole_shillings(amount: Decimal | None) -> int | None:
    """``amount`` as an int when it has no cents, else None."""
    if amount is None:
        return 0
    if amount != amount.to_integral_value():
        return None
    return int(amount)


def parse_time(text: str) -> datetime | None:
    """``dd-mm-yyyy HH:MM:SS`` (the portal's) or ISO 8601, in Nairobi time
    when it names no zone; None for an empty cell. Raises
    ``ValueFormatError`` for anything else."""
    value = text.strip()
    if not value:
        return None
    moment = _parse_moment(value, text)
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueFormatError(
            f"{_shown(text)} is not a time between {FIRST_YEAR} and {LAST_YEAR}"
        )
    return moment


def _parse_moment(value: str, text: str) -> datetime:
    for layout in _DMY:
        try:
            return datetime.strptime(value, layout).replace(tzinfo=NAIROBI)
        except ValueError:
            continue
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueFormatError(
            f"{_shown(text)} is not a time (dd-mm-yyyy HH:MM:SS or ISO)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=NAIROBI)
    return moment
