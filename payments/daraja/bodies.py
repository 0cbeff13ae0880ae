"""Request bodies of STK Push and STK Push Query, validated before sending."""

from __future__ import annotations

from payments.daraja.credentials import daraja_timestamp, stk_password
from payments.daraja.exceptions import DarajaValidationError
from payments.daraja.types import DarajaConfig
from payments.daraja.validation import (
    shorten_description,
    validate_account_reference,
    validate_amount,
    validate_callback_url,
)
from payments.phone import InvalidPhoneNumber, normalise_phone


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
