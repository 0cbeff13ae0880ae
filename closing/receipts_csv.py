"""The CSV of one day's receipts, for Finance's spreadsheet.

Phone numbers are masked (the file leaves the admin) and every cell that
a spreadsheet would read as a formula (``= + - @``) is prefixed with
``'`` (CSV injection: account numbers and names come from payers).
"""

import re
from collections.abc import Iterator
from datetime import date

from django.utils import timezone

from closing.services.days import receipts_of_day
from core.phone import mask_phone
from core.time import NAIROBI

CSV_HEADER = (
    "receipt_number",
    "time_nairobi",
    "direction",
    "channel",
    "amount_kes",
    "allocation",
    "payment_id",
    "booking_reference",
    "account_reference",
    "payer_phone",
    "payer_name",
)
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_FORMULA_STARTS = ("=", "+", "-", "@")
_CONTROL_STARTS = ("\t", "\r")


def receipts_csv_rows(day: date) -> Iterator[list[str]]:
    """The header, then one row per receipt of the day, oldest first."""
    yield list(CSV_HEADER)
    receipts = receipts_of_day(day).select_related("booking")
    for receipt in receipts.iterator(chunk_size=500):
        at = receipt.transacted_at or receipt.created_at
        values = (
            receipt.receipt_number,
            f"{timezone.localtime(at, NAIROBI):%Y-%m-%d %H:%M:%S}",
            receipt.direction,
            receipt.channel,
            receipt.amount,
            receipt.allocation,
            receipt.payment_id or "",
            receipt.booking.reference if receipt.booking else "",
            receipt.account_reference,
            _payer_shown(receipt.payer_phone),
            receipt.payer_name,
        )
        yield [csv_safe(value) for value in values]


def csv_safe(value: object) -> str:
    """The cell's text, prefixed with ``'`` if it would start a formula,
    also after leading whitespace (a spreadsheet may trim it)."""
    text = str(value)
    risky = text.startswith(_CONTROL_STARTS) or text.lstrip().startswith(
        _FORMULA_STARTS
    )
    return "'" + text if risky else text


def _payer_shown(value: str) -> str:
    """A hash as ``hashed``, a masked number as it came, a full one masked."""
    if not value:
        return ""
    if _SHA256_HEX.fullmatch(value):
        return "hashed"
    return value if "*" in value else mask_phone(value)
