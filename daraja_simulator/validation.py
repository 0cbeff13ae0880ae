"""Daraja's checks on STK Push and STK Query bodies.

Written from Daraja's documented rules, not from our client, so that it
catches the client's mistakes instead of mirroring them. Field errors are
``400.002.02 Bad Request - Invalid <Field>``; a Password that does not
match shortcode + passkey + Timestamp is ``500.001.1001 Wrong
credentials``; an unknown but well-formed shortcode is ``500.001.1001
Merchant does not exist``.
"""

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from .errors import bad_request, server_error
from .identifiers import NAIROBI

TRANSACTION_TYPES = ("CustomerPayBillOnline", "CustomerBuyGoodsOnline")
MIN_AMOUNT = 1
MAX_AMOUNT = 250_000
_MSISDN = re.compile(r"^254[71]\d{8}$")
_SHORT_CODE = re.compile(r"^\d{5,7}$")
_TIMESTAMP = re.compile(r"^\d{14}$")
# Words the sandbox refuses in a CallBackURL (daraja.md section 2). Only
# the ones reported for STK; "query", "exe" etc. would catch real paths.
_FORBIDDEN_URL_WORDS = ("mpesa", "m-pesa", "safaricom")


@dataclass(frozen=True, slots=True)
class Credentials:
    """What the simulator checks a Password against."""

    short_code: str
    passkey: str
    timestamp_tolerance: float
    forbid_callback_keywords: bool


@dataclass(frozen=True, slots=True)
class PushRequest:
    """A push that passed every check."""

    phone: str
    party_a: str
    party_b: str
    amount: int
    transaction_type: str
    account_reference: str
    transaction_desc: str
    callback_url: str


def as_digits(value: Any) -> str | None:
    """A JSON number or numeric string as a digit string, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return value
    return None


def check_credentials(body: dict[str, Any], creds: Credentials, now: datetime) -> None:
    """Check BusinessShortCode, Timestamp and Password, in Daraja's order."""
    short_code = as_digits(body.get("BusinessShortCode"))
    if short_code is None or not _SHORT_CODE.match(short_code):
        raise bad_request("BusinessShortCode")
    password = body.get("Password")
    if not isinstance(password, str) or not password:
        raise bad_request("Password")
    timestamp = body.get("Timestamp")
    if not isinstance(timestamp, str) or not _timestamp_is_current(
        timestamp, now, creds.timestamp_tolerance
    ):
        raise bad_request("Timestamp")
    if short_code != creds.short_code:
        raise server_error("Merchant does not exist")
    if not _password_matches(password, short_code + creds.passkey + timestamp):
        raise server_error("Wrong credentials")


def _timestamp_is_current(timestamp: str, now: datetime, tolerance: float) -> bool:
    """14 digits, a real date, in Nairobi time within ``tolerance`` of now."""
    if not _TIMESTAMP.match(timestamp):
        return False
    try:
        stamped = datetime.strptime(timestamp, "%Y%m%d%H%M%S").replace(tzinfo=NAIROBI)
    except ValueError:
        return False
    return abs(stamped - now) <= timedelta(seconds=tolerance)


def _password_matches(password: str, plain: str) -> bool:
    """Password must be base64 of the plain concatenation."""
    try:
        decoded = base64.b64decode(password, validate=True)
    except (binascii.Error, ValueError):
        return False
    return decoded == plain.encode()


def check_push(body: dict[str, Any], creds: Credentials, now: datetime) -> PushRequest:
    """Run every STK Push check; return the accepted request."""
    check_credentials(body, creds, now)
    transaction_type = body.get("TransactionType")
    if transaction_type not in TRANSACTION_TYPES:
        raise bad_request("TransactionType")
    amount = _amount(body.get("Amount"))
    party_a = check_msisdn(body.get("PartyA"), "PartyA")
    party_b = as_digits(body.get("PartyB"))
    if party_b is None or not _SHORT_CODE.match(party_b):
        raise bad_request("PartyB")
    phone = check_msisdn(body.get("PhoneNumber"), "PhoneNumber")
    callback_url = _callback_url(body.get("CallBackURL"), creds)
    reference = body.get("AccountReference")
    if not isinstance(reference, str) or not 1 <= len(reference) <= 12:
        raise bad_request("AccountReference")
    description = body.get("TransactionDesc", "")
    if not isinstance(description, str) or len(description) > 13:
        raise bad_request("TransactionDesc")
    return PushRequest(
        phone=phone,
        party_a=party_a,
        party_b=party_b,
        amount=amount,
        transaction_type=transaction_type,
        account_reference=reference,
        transaction_desc=description,
        callback_url=callback_url,
    )


def _amount(value: Any) -> int:
    """A whole number of shillings, 1..250000, as a number or digit string."""
    digits = as_digits(value)
    if digits is None:
        raise bad_request("Amount")
    amount = int(digits)
    if not MIN_AMOUNT <= amount <= MAX_AMOUNT:
        raise bad_request("Amount")
    return amount


def check_msisdn(value: Any, field_name: str) -> str:
    """A 12-digit Safaricom MSISDN, ``2547…`` or ``2541…``."""
    digits = as_digits(value)
    if digits is None or not _MSISDN.match(digits):
        raise bad_request(field_name)
    return digits


def _callback_url(value: Any, creds: Credentials) -> str:
    """A push's CallBackURL; see :func:`check_url`."""
    return check_url(
        value, "CallBackURL", forbid_keywords=creds.forbid_callback_keywords
    )


def check_url(value: Any, field_name: str, *, forbid_keywords: bool) -> str:
    """An absolute http(s) URL with a host and no whitespace (and none of
    Daraja's filtered words if ``forbid_keywords``); else 400.002.02."""
    if not isinstance(value, str) or not value or value != "".join(value.split()):
        raise bad_request(field_name)
    try:
        parts = urlsplit(value)
    except ValueError:
        raise bad_request(field_name) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request(field_name)
    lowered = value.lower()
    if forbid_keywords and any(word in lowered for word in _FORBIDDEN_URL_WORDS):
        raise bad_request(field_name)
    return value


def check_query(body: dict[str, Any], creds: Credentials, now: datetime) -> str:
    """Run the STK Query checks; return the CheckoutRequestID."""
    check_credentials(body, creds, now)
    checkout_id = body.get("CheckoutRequestID")
    if not isinstance(checkout_id, str) or not checkout_id.strip():
        raise bad_request("CheckoutRequestID")
    return checkout_id
