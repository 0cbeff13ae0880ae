"""Everything checked or computed before a request is sent to Daraja.

The checks on STK push inputs (amount, account reference, description,
callback URL; the phone number through the domain rule in
``payments.phone``), the ``Timestamp`` (Kenyan time, ``core.time``) and
``Password`` (daraja.md section 2), and the request
bodies of STK Push and STK Push Query built from them.
"""

from __future__ import annotations

import base64
import ipaddress
import logging
import re
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlsplit

from core.time import NAIROBI
from payments.daraja.exceptions import DarajaValidationError
from payments.daraja.types import DarajaConfig, DarajaEnvironment
from payments.phone import InvalidPhoneNumber, normalise_phone

logger = logging.getLogger(__name__)

MIN_AMOUNT = 1
# Per-transaction M-Pesa maximum since Sep 2023 (daraja.md section 9).
MAX_AMOUNT = 250_000
ACCOUNT_REFERENCE_MAX = 12
TRANSACTION_DESC_MAX = 13
DEFAULT_DESCRIPTION = "Payment"

# Special characters (@ # & ...) make Daraja fail (daraja.md section 2).
_SAFE_TEXT = re.compile(r"[A-Za-z0-9 ]+")
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9 ]+")
_SPACES = re.compile(r" {2,}")
_WHITESPACE = re.compile(r"\s")
# Daraja's FAQ asks to avoid these words in callback URLs; whether the STK
# endpoint enforces it is uncertain, so we warn rather than refuse.
_DISCOURAGED_URL_WORDS = re.compile(
    r"m-?pesa|safaricom|exe|cmd|sql|query", re.IGNORECASE
)
_LOCAL_HOSTS = frozenset({"localhost", "localhost.localdomain"})


def validate_amount(value: object) -> int:
    """Return ``value`` as whole shillings (int) between 1 and 250,000.

    Accepts ints and integral floats/Decimals (``3000.0`` -> ``3000``).

    Raises:
        DarajaValidationError: (field ``amount``) for booleans, strings,
            fractions, NaN/infinity, 0, negatives and amounts above 250,000.
    """
    amount = _whole_number(value)
    if amount is None:
        raise DarajaValidationError("amount", "Enter a whole number of shillings.")
    if not MIN_AMOUNT <= amount <= MAX_AMOUNT:
        raise DarajaValidationError(
            "amount",
            f"Amount must be between KES {MIN_AMOUNT:,} and KES {MAX_AMOUNT:,}.",
        )
    return amount


def _whole_number(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        try:
            whole = int(value)
        except (ValueError, OverflowError):  # NaN, infinity
            return None
        return whole if whole == value else None
    return None


def validate_account_reference(value: object) -> str:
    """Return ``value`` unchanged if it is 1-12 letters, digits or spaces.

    The reference is shown to the customer, so it is refused rather than
    shortened.

    Raises:
        DarajaValidationError: (field ``account_reference``) otherwise.
    """
    field = "account_reference"
    if not isinstance(value, str) or not value.strip():
        raise DarajaValidationError(field, "Enter an account reference.")
    if len(value) > ACCOUNT_REFERENCE_MAX:
        raise DarajaValidationError(
            field, f"Use at most {ACCOUNT_REFERENCE_MAX} characters."
        )
    if not _SAFE_TEXT.fullmatch(value):
        raise DarajaValidationError(field, "Use only letters, digits and spaces.")
    return value


def shorten_description(value: str | None) -> str:
    """Return ``value`` reduced to Daraja's ``TransactionDesc`` rules.

    Drops characters outside ``[A-Za-z0-9 ]``, squeezes spaces, cuts to 13
    characters; falls back to ``"Payment"`` rather than sending nothing.
    """
    text = _UNSAFE_CHARS.sub("", value) if isinstance(value, str) else ""
    text = _SPACES.sub(" ", text).strip()[:TRANSACTION_DESC_MAX].strip()
    return text or DEFAULT_DESCRIPTION


def validate_callback_url(url: object, *, environment: DarajaEnvironment | str) -> str:
    """Return ``url`` if Daraja can call it back.

    It must be an absolute http(s) URL without whitespace (stray spaces give
    ``400.002.02 Invalid CallBackURL``); in production it must be https on a
    public host.

    Raises:
        DarajaValidationError: (field ``callback_url``) otherwise.
    """
    field = "callback_url"
    if not isinstance(url, str) or not url or _WHITESPACE.search(url):
        raise DarajaValidationError(field, "Enter a URL without spaces.")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise DarajaValidationError(field, "Enter an absolute http(s) URL.")
    if DarajaEnvironment(environment) is DarajaEnvironment.PRODUCTION:
        _check_production_url(parts.scheme, parts.hostname)
    if _DISCOURAGED_URL_WORDS.search(url):
        logger.warning(
            "Callback URL contains a word Daraja may refuse (mpesa, query...)"
        )
    return url


def _check_production_url(scheme: str, host: str) -> None:
    field = "callback_url"
    if scheme != "https":
        raise DarajaValidationError(field, "Production callbacks must use https.")
    if host in _LOCAL_HOSTS or _is_private_ip(host):
        raise DarajaValidationError(field, "Use a public host for callbacks.")


def _is_private_ip(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


# --- Timestamp and password ------------------------------------------------

# Daraja reads the timestamp as Kenyan wall-clock time (NAIROBI, core.time).
# Django sets os.environ["TZ"], so a naive now() is the wrong clock.
TIMESTAMP_FORMAT = "%Y%m%d%H%M%S"


def daraja_timestamp(now: datetime | None = None) -> str:
    """Return ``YYYYMMDDHHMMSS`` in Africa/Nairobi time, whatever the TZ.

    Raises:
        ValueError: ``now`` is naive (its zone would be a guess).
    """
    if now is None:
        now = datetime.now(tz=NAIROBI)
    elif now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("daraja_timestamp() needs an aware datetime")
    return now.astimezone(NAIROBI).strftime(TIMESTAMP_FORMAT)


def stk_password(shortcode: str, passkey: str, timestamp: str) -> str:
    """Return ``base64(shortcode + passkey + timestamp)`` (no hashing)."""
    raw = f"{shortcode}{passkey}{timestamp}".encode()
    return base64.b64encode(raw).decode("ascii")


# --- Request bodies -----------------------------------------------------------


def push_body(
    config: DarajaConfig,
    *,
    phone_number: str | int,
    amount: object,
    account_reference: str,
    transaction_desc: str | None,
    callback_url: str | None,
) -> dict:
    """Return the ``processrequest`` body, every input checked first.

    Paybill: ``PartyB`` is the shortcode. Till: ``BusinessShortCode`` is the
    store number and ``PartyB`` the till (``config.party_b``).

    Raises:
        DarajaValidationError: the first input refused.
    """
    phone = _msisdn(phone_number)
    whole_amount = validate_amount(amount)
    reference = validate_account_reference(account_reference)
    description = shorten_description(transaction_desc)
    url = validate_callback_url(
        callback_url or config.callback_url, environment=config.environment
    )
    # One timestamp for Password and body: a mismatch is "Wrong credentials".
    timestamp = daraja_timestamp()
    # Numbers where Daraja's official sample has numbers.
    return {
        "BusinessShortCode": _numeric(config.business_short_code),
        "Password": stk_password(config.business_short_code, config.passkey, timestamp),
        "Timestamp": timestamp,
        "TransactionType": config.transaction_type,
        "Amount": whole_amount,
        "PartyA": _numeric(phone),
        "PartyB": _numeric(config.credit_party),
        "PhoneNumber": _numeric(phone),
        "CallBackURL": url,
        "AccountReference": reference,
        "TransactionDesc": description,
    }


def query_body(config: DarajaConfig, checkout_request_id: str) -> dict:
    """Return the ``stkpushquery`` body, with a fresh timestamp."""
    timestamp = daraja_timestamp()
    return {
        "BusinessShortCode": _numeric(config.business_short_code),
        "Password": stk_password(config.business_short_code, config.passkey, timestamp),
        "Timestamp": timestamp,
        "CheckoutRequestID": checkout_request_id,
    }


def _msisdn(phone_number: str | int) -> str:
    # The domain rule, reported as the adapter's own validation error.
    try:
        return normalise_phone(phone_number)
    except InvalidPhoneNumber as exc:
        raise DarajaValidationError(exc.field, exc.message) from exc


def _numeric(value: str) -> int | str:
    return int(value) if value.isdigit() else value


C2B_RESPONSE_TYPES = ("Completed", "Cancelled")
C2B_API_VERSIONS = ("v1", "v2")


def c2b_register_body(
    *,
    short_code: str,
    response_type: str,
    confirmation_url: str,
    validation_url: str,
) -> dict:
    """Return the ``registerurl`` body (v1 and v2 take the same).

    Raises:
        DarajaValidationError: a shortcode that is not digits, a
            ``ResponseType`` other than Completed/Cancelled (sentence case),
            or an empty URL.
    """
    if not str(short_code).isdigit():
        raise DarajaValidationError("short_code", "Give the shortcode's digits.")
    if response_type not in C2B_RESPONSE_TYPES:
        raise DarajaValidationError(
            "response_type", "ResponseType is Completed or Cancelled."
        )
    for field, url in (
        ("confirmation_url", confirmation_url),
        ("validation_url", validation_url),
    ):
        if not url:
            raise DarajaValidationError(field, "Give the URL.")
    return {
        "ShortCode": _numeric(str(short_code)),
        "ResponseType": response_type,
        "ConfirmationURL": confirmation_url,
        "ValidationURL": validation_url,
    }
