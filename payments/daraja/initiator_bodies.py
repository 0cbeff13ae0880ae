"""Checks and request bodies of Reversal, B2C and Transaction Status.

Field names as Daraja spells them (daraja.md section 6), misspellings
included: the reversal's ``RecieverIdentifierType`` and B2C's
``Occassion``. Every body carries our ``OriginatorConversationID``, the
idempotency key that matches the result to the request.
"""

from __future__ import annotations

import re

from payments.daraja.exceptions import DarajaValidationError
from payments.daraja.types import InitiatorConfig
from payments.daraja.validation import validate_amount
from payments.phone import InvalidPhoneNumber, normalise_phone

REVERSAL_COMMAND = "TransactionReversal"
STATUS_COMMAND = "TransactionStatusQuery"
B2C_COMMANDS = frozenset({"BusinessPayment", "SalaryPayment", "PromotionPayment"})
# Transaction Status looks up the organisation's shortcode (daraja.md 6).
SHORTCODE_IDENTIFIER_TYPE = "4"
B2C_MIN_AMOUNT = 10
REMARKS_LENGTH = (2, 100)
OCCASION_MAX = 100

_CONVERSATION_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_RECEIPT = re.compile(r"[A-Z0-9]{6,20}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def conversation_id(value: object, field: str) -> str:
    """A conversation id we send (letters, digits, ``_.:-``, at most 64).

    Raises:
        DarajaValidationError: (``field``) anything else.
    """
    if not isinstance(value, str) or not _CONVERSATION_ID.fullmatch(value.strip()):
        raise DarajaValidationError(field, "Give a conversation id (at most 64).")
    return value.strip()


def receipt(value: object, field: str = "transaction_id") -> str:
    """An M-Pesa receipt number, upper case (``tmq...`` -> ``TMQ...``).

    Raises:
        DarajaValidationError: (``field``) not 6-20 letters and digits.
    """
    text = value.strip().upper() if isinstance(value, str) else ""
    if not _RECEIPT.fullmatch(text):
        raise DarajaValidationError(field, "Give an M-Pesa receipt number.")
    return text


def remarks(value: object, field: str = "remarks") -> str:
    """``Remarks``: 2-100 characters, no control characters.

    Raises:
        DarajaValidationError: (``field``) otherwise.
    """
    text = value.strip() if isinstance(value, str) else ""
    low, high = REMARKS_LENGTH
    if not low <= len(text) <= high or _CONTROL.search(text):
        raise DarajaValidationError(field, f"Remarks take {low} to {high} characters.")
    return text


def occasion(value: object) -> str:
    """``Occasion``: optional, at most 100 characters.

    Raises:
        DarajaValidationError: (field ``occasion``) otherwise.
    """
    text = value.strip() if isinstance(value, str) else None
    if text is None or len(text) > OCCASION_MAX or _CONTROL.search(text):
        raise DarajaValidationError(
            "occasion", "Occasion takes at most 100 characters."
        )
    return text


def b2c_amount(value: object) -> int:
    """A B2C amount: whole KES 10..250,000 (daraja.md sections 6, 9).

    Raises:
        DarajaValidationError: (field ``amount``) otherwise.
    """
    amount = validate_amount(value)
    if amount < B2C_MIN_AMOUNT:
        raise DarajaValidationError("amount", "B2C pays at least KES 10.")
    return amount


def msisdn(value: object) -> str:
    """The customer's number as ``2547XXXXXXXX``.

    Raises:
        DarajaValidationError: (field ``phone_number``) not a Kenyan mobile.
    """
    try:
        return normalise_phone(value)
    except InvalidPhoneNumber as exc:
        raise DarajaValidationError(exc.field, exc.message) from exc


def reversal_body(
    initiator: InitiatorConfig,
    *,
    credential: str,
    transaction_id: str,
    amount: int,
    originator_conversation_id: str,
    remarks_text: str,
    occasion_text: str,
    receiver_party: str,
) -> dict:
    """The ``/mpesa/reversal/v1/request`` body (inputs checked already)."""
    return {
        "OriginatorConversationID": originator_conversation_id,
        "Initiator": initiator.initiator_name,
        "SecurityCredential": credential,
        "CommandID": REVERSAL_COMMAND,
        "TransactionID": transaction_id,
        "Amount": amount,
        "ReceiverParty": _numeric(receiver_party),
        # Sic: the correctly spelt name is refused (daraja.md section 6).
        "RecieverIdentifierType": initiator.reversal_receiver_identifier_type,
        "ResultURL": initiator.result_url,
        "QueueTimeOutURL": initiator.queue_timeout_url,
        "Remarks": remarks_text,
        "Occasion": occasion_text,
    }


def b2c_body(
    initiator: InitiatorConfig,
    *,
    credential: str,
    originator_conversation_id: str,
    phone: str,
    amount: int,
    command_id: str,
    remarks_text: str,
    occasion_text: str,
) -> dict:
    """The ``/mpesa/b2c/v3/paymentrequest`` body (inputs checked already)."""
    return {
        "OriginatorConversationID": originator_conversation_id,
        "InitiatorName": initiator.b2c_initiator_name,
        "SecurityCredential": credential,
        "CommandID": command_id,
        "Amount": amount,
        "PartyA": _numeric(initiator.b2c_short_code),
        "PartyB": _numeric(phone),
        "Remarks": remarks_text,
        "QueueTimeOutURL": initiator.queue_timeout_url,
        "ResultURL": initiator.result_url,
        "Occassion": occasion_text,  # sic, as Daraja spells it
    }


def transaction_status_body(
    initiator: InitiatorConfig,
    *,
    credential: str,
    originator_conversation_id: str,
    transaction_id: str | None,
    original_conversation_id: str | None,
    remarks_text: str,
) -> dict:
    """The ``/mpesa/transactionstatus/v1/query`` body: by receipt or by the
    ``OriginalConversationID`` of an earlier request (at least one)."""
    body = {
        "OriginatorConversationID": originator_conversation_id,
        "Initiator": initiator.initiator_name,
        "SecurityCredential": credential,
        "CommandID": STATUS_COMMAND,
        "PartyA": _numeric(initiator.party_a),
        "IdentifierType": SHORTCODE_IDENTIFIER_TYPE,
        "ResultURL": initiator.result_url,
        "QueueTimeOutURL": initiator.queue_timeout_url,
        "Remarks": remarks_text,
        "Occasion": "",
    }
    if transaction_id:
        body["TransactionID"] = transaction_id
    if original_conversation_id:
        body["OriginalConversationID"] = original_conversation_id
    return body


def _numeric(value: str) -> int | str:
    return int(value) if value.isdigit() else value
