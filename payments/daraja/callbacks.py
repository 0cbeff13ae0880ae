"""Parse the STK callback Daraja POSTs to our CallBackURL.

The body is untrusted: anything that is not shaped like
``{"Body": {"stkCallback": {...}}}`` with a CheckoutRequestID raises
``CallbackParseError``, never a ``KeyError`` or ``TypeError``. Metadata items
are read by name, in any order; they may be missing, duplicated (the first
with a value wins) or lack a ``Value`` (``Balance`` usually does).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from core.time import NAIROBI
from payments.daraja.exceptions import CallbackParseError
from payments.daraja.validation import TIMESTAMP_FORMAT

# Daraja's ids are about 30 characters; a longer one is not Daraja's and
# would not fit the columns that hold them (64).
MAX_ID_LENGTH = 64
# NUL and lone surrogates (a JSON "\ud800" escape decodes to one): never in
# a real callback, and PostgreSQL refuses to store either.
UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class StkCallback:
    """One STK callback. Only ``is_success`` with a receipt means paid.

    ``amount`` is the metadata ``Amount`` when it is a finite number;
    otherwise None, and ``amount_problem`` says why ("missing", "not a
    number: '3,000'"), so the caller can refuse a report that does not add
    up instead of mistaking it for one that says nothing.
    """

    merchant_request_id: str | None
    checkout_request_id: str
    result_code: str
    result_desc: str
    amount: Decimal | None
    amount_problem: str
    mpesa_receipt_number: str | None
    transaction_date: datetime | None
    phone_number: str | None
    balance: Decimal | None
    raw: dict

    @property
    def is_success(self) -> bool:
        """True when Daraja reports the payment processed (ResultCode 0)."""
        return self.result_code == "0"


def parse_stk_callback(payload: object) -> StkCallback:
    """Return the callback in ``payload`` (decoded JSON, or raw bytes/str).

    A success without ``CallbackMetadata`` is still returned, with empty
    metadata: the caller decides what that means.

    Raises:
        CallbackParseError: ``payload`` is not an STK callback.
    """
    payload = decoded_json_object(payload)
    if unstorable_text(payload):
        raise CallbackParseError(
            "Callback holds NUL or a lone surrogate in a key or value"
        )
    callback = _dict_at(payload, "Body", "stkCallback")
    checkout_request_id = _identifier(callback.get("CheckoutRequestID"))
    if checkout_request_id is None:
        raise CallbackParseError("Callback has no CheckoutRequestID")
    for name in ("CheckoutRequestID", "MerchantRequestID"):
        if len(_identifier(callback.get(name)) or "") > MAX_ID_LENGTH:
            raise CallbackParseError(
                f"Callback {name} is longer than {MAX_ID_LENGTH} characters"
            )
    result_code = _identifier(callback.get("ResultCode"))
    if result_code is None:
        raise CallbackParseError("Callback has no ResultCode")
    items = _items(callback.get("CallbackMetadata"))
    amount, amount_problem = _amount(items)
    return StkCallback(
        merchant_request_id=_identifier(callback.get("MerchantRequestID")),
        checkout_request_id=checkout_request_id,
        result_code=result_code,
        result_desc=_string(callback.get("ResultDesc")) or "",
        amount=amount,
        amount_problem=amount_problem,
        mpesa_receipt_number=_identifier(items.get("MpesaReceiptNumber")),
        transaction_date=_nairobi_datetime(items.get("TransactionDate")),
        phone_number=_identifier(items.get("PhoneNumber")),
        balance=_decimal(items.get("Balance")),
        raw=payload,
    )


def unstorable_text(value: object) -> bool:
    """Whether any string in ``value`` (keys included, at any depth) holds
    NUL or a lone surrogate. Iterative: bodies may nest deeply."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if UNSTORABLE_TEXT.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def decoded_json_object(payload: object, *, what: str = "Callback body") -> dict:
    """``payload`` (raw bytes/text or already parsed) as a JSON object, or
    ``CallbackParseError`` naming ``what`` it should have been."""
    if isinstance(payload, bytes | bytearray | str):
        try:
            payload = json.loads(payload)
        except (ValueError, RecursionError) as exc:
            raise CallbackParseError(f"{what} is not JSON") from exc
    if not isinstance(payload, dict):
        raise CallbackParseError(f"{what} is not a JSON object")
    return payload


def _dict_at(payload: dict, *path: str) -> dict:
    node: object = payload
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            raise CallbackParseError(f"Callback has no {'.'.join(path)} object")
    return node


def _items(metadata: object) -> dict[str, object]:
    items = metadata.get("Item") if isinstance(metadata, dict) else None
    if isinstance(items, dict):  # a single item not wrapped in a list
        items = [items]
    if not isinstance(items, list):
        return {}
    values: dict[str, object] = {}
    for item in items:
        if not isinstance(item, dict) or "Value" not in item:
            continue
        name = item.get("Name")
        if isinstance(name, str) and item["Value"] is not None:
            values.setdefault(name.strip(), item["Value"])
    return values


def _string(value: object) -> str | None:
    if isinstance(value, str):
        return value.replace("\x00", "").strip()
    return None


def _identifier(value: object) -> str | None:
    """Codes, ids, receipts and phones: int 254708374149 -> "254708374149"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int | str):
        text = str(value).strip()
        # A NUL cannot be stored (PostgreSQL text) and is never a real id.
        return text if text and "\x00" not in text else None
    return None


# A number as Daraja writes one (1, 1.0, "1.00"); never "3,000" or "1e3".
_PLAIN_NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,6})?")
# TransactionDate outside these years is not M-Pesa's and is not kept.
_PLAUSIBLE_YEARS = (2000, 2100)


def _amount(items: dict[str, object]) -> tuple[Decimal | None, str]:
    """``Amount`` as a finite number, or None and why it is not one."""
    if "Amount" not in items:
        return None, "missing or null"
    value = items["Amount"]
    if isinstance(value, bool):
        return None, f"not a number: {value!r}"
    if isinstance(value, int | float):
        amount = _decimal(value)
    elif isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value.strip()):
        amount = Decimal(value.strip())
    else:
        amount = None
    if amount is None:
        return None, f"not a number: {_shown(value)}"
    return amount, ""


def _shown(value: object) -> str:
    """A short, printable rendering of an untrusted value for a reason."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _nairobi_datetime(value: object) -> datetime | None:
    text = _identifier(value)
    if text is None or len(text) != 14 or not text.isdigit():
        return None
    try:
        naive = datetime.strptime(text, TIMESTAMP_FORMAT)  # noqa: DTZ007
    except ValueError:
        return None
    if not _PLAUSIBLE_YEARS[0] <= naive.year <= _PLAUSIBLE_YEARS[1]:
        # A forged 00010101000000 is before year 1 in UTC: it cannot be
        # stored (SQLite) or read back (PostgreSQL). The raw body keeps it.
        return None
    # Daraja sends Kenyan wall-clock time with no zone (daraja.md 2, 4).
    return naive.replace(tzinfo=NAIROBI)
