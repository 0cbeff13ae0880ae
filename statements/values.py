"""Reading the statement's cells: amounts and times. Pure; no Django."""

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from core.time import NAIROBI

_CURRENCY = re.compile(r"^(kes|ksh|kshs)\.?\s*", re.IGNORECASE)
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
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueFormatError(f"{text!r} is not an amount") from None
    if not amount.is_finite():
        raise ValueFormatError(f"{text!r} is not an amount")
    return amount


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
    for layout in _DMY:
        try:
            return datetime.strptime(value, layout).replace(tzinfo=NAIROBI)
        except ValueError:
            continue
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueFormatError(
            f"{text!r} is not a time (dd-mm-yyyy HH:MM:SS or ISO)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=NAIROBI)
    return moment
