"""Parse the C2B (Paybill) requests Safaricom POSTs to our registered URLs.

Validation and confirmation carry the same keys (../shared/daraja.md
section 10): ``TransID`` (the M-Pesa receipt), ``TransTime``
(``YYYYMMDDHHmmss``, Nairobi), ``TransAmount`` (a string such as
``"3000.00"``, or a number), ``BusinessShortCode``, ``BillRefNumber`` (what
the payer typed as the account number), ``MSISDN`` (v1: a SHA-256 hex of
the number; v2: masked, ``2547 ***** 126``) and the payer's names. The body
is untrusted: anything that is not such a request raises
``CallbackParseError``, never a ``KeyError`` or ``TypeError``. Pure: the
standard library and the adapter only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from core.time import NAIROBI
from payments.daraja.callbacks import decoded_json_object, unstorable_text
from payments.daraja.exceptions import CallbackParseError
from payments.daraja.validation import TIMESTAMP_FORMAT

# A receipt as Daraja writes one: letters and digits (upper-cased here).
_TRANS_ID = re.compile(r"[A-Z0-9]{1,20}")
# "3000", "3000.00", " 5.5 ", and with thousands separators "3,000.00"
# (groups of three after the first); never "3,00", "1e3" or a sign.
_PLAIN_AMOUNT = re.compile(r"([0-9]{1,12}|[0-9]{1,3}(,[0-9]{3}){1,3})(\.[0-9]{1,6})?")
_PLAUSIBLE_YEARS = (2000, 2100)
MAX_TEXT = 128


@dataclass(frozen=True, slots=True)
class C2BRequest:
    """One validation or confirmation request, as Safaricom sent it.

    ``amount`` is ``TransAmount`` as a number; ``whole_amount`` is it in
    whole shillings, or None when it has a fraction (M-Pesa moves whole
    shillings: a fraction is not a report we can count).
    """

    trans_id: str
    transaction_type: str
    trans_time: datetime | None
    amount: Decimal
    short_code: str
    bill_ref_number: str
    msisdn: str
    payer_name: str
    raw: dict

    @property
    def whole_amount(self) -> int | None:
        """The amount in whole shillings, or None for a fraction."""
        if self.amount != self.amount.to_integral_value():
            return None
        return int(self.amount)


def parse_c2b_request(payload: object) -> C2BRequest:
    """Return the C2B request in ``payload`` (decoded JSON, bytes or str).

    Raises:
        CallbackParseError: not a JSON object, or no usable ``TransID`` or
            ``TransAmount``.
    """
    payload = decoded_json_object(payload, what="C2B request body")
    if unstorable_text(payload):
        raise CallbackParseError("C2B request holds NUL or a lone surrogate")
    trans_id = _text(payload.get("TransID")).upper()
    if not _TRANS_ID.fullmatch(trans_id):
        raise CallbackParseError("C2B request has no usable TransID")
    return C2BRequest(
        trans_id=trans_id,
        transaction_type=_text(payload.get("TransactionType")),
        trans_time=_nairobi_time(payload.get("TransTime")),
        amount=_amount(payload.get("TransAmount")),
        short_code=_text(payload.get("BusinessShortCode")),
        bill_ref_number=_text(payload.get("BillRefNumber")),
        msisdn=_text(payload.get("MSISDN")),
        payer_name=_payer_name(payload),
        raw=payload,
    )


def _text(value: object) -> str:
    """A string or number as stripped text ('' otherwise), at most 128."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int | float | str):
        return str(value).strip()[:MAX_TEXT]
    return ""


def _amount(value: object) -> Decimal:
    """``TransAmount`` ("3000.00", "3,000" or 3000) as a Decimal; raises
    otherwise. A confirmation refused here is money we never record, so a
    separator some systems add is read rather than refused."""
    text = "" if isinstance(value, bool) else _text(value)
    if not _PLAIN_AMOUNT.fullmatch(text):
        raise CallbackParseError(f"C2B request TransAmount is unusable: {value!r:.40}")
    return Decimal(text.replace(",", ""))


def _payer_name(payload: dict) -> str:
    """First, middle and last name joined by single spaces (any may be '')."""
    names = (_text(payload.get(key)) for key in ("FirstName", "MiddleName", "LastName"))
    return " ".join(name for name in names if name)


def _nairobi_time(value: object) -> datetime | None:
    text = _text(value)
    if len(text) != 14 or not text.isdigit():
        return None
    try:
        naive = datetime.strptime(text, TIMESTAMP_FORMAT)  # noqa: DTZ007
    except ValueError:
        return None
    if not _PLAUSIBLE_YEARS[0] <= naive.year <= _PLAUSIBLE_YEARS[1]:
        return None
    # Kenyan wall-clock time with no zone, like the STK callback's.
    return naive.replace(tzinfo=NAIROBI)
