"""Daraja's checks on Reversal, B2C and Transaction Status bodies.

Written from Daraja's documented fields (daraja.md section 6), not from
our client. A missing or malformed field is ``400.002.02 Bad Request -
Invalid <Field>``. The SecurityCredential is only checked for presence
here: whether it decrypts to the initiator's password decides the
*result* (2001), as on Daraja.
"""

import re
from dataclasses import dataclass
from typing import Any

from .errors import bad_request
from .validation import as_digits, check_msisdn, check_url

REVERSAL_COMMAND = "TransactionReversal"
STATUS_COMMAND = "TransactionStatusQuery"
B2C_COMMANDS = ("BusinessPayment", "SalaryPayment", "PromotionPayment")
IDENTIFIER_TYPES = ("1", "2", "4", "11")
B2C_MIN_AMOUNT = 10
MAX_AMOUNT = 250_000
_SHORT_CODE = re.compile(r"^\d{5,7}$")
_RECEIPT = re.compile(r"^[A-Z0-9]{6,20}$")


@dataclass(frozen=True, slots=True)
class InitiatorCall:
    """A Reversal, B2C or Transaction Status request that passed the checks."""

    kind: str
    initiator: str
    credential: str
    originator_conversation_id: str
    result_url: str
    queue_timeout_url: str
    remarks: str
    amount: int = 0
    transaction_id: str = ""
    original_conversation_id: str = ""
    party: str = ""
    phone: str = ""
    command_id: str = ""


def check_reversal(body: dict[str, Any], *, forbid_keywords: bool) -> InitiatorCall:
    """``/mpesa/reversal/v1/request``; note ``RecieverIdentifierType`` (sic)."""
    _command(body, (REVERSAL_COMMAND,))
    if "RecieverIdentifierType" not in body:
        # The correct spelling is refused with this message (daraja.md 6).
        raise bad_request("RecieverIdentifierType")
    if as_digits(body.get("RecieverIdentifierType")) not in IDENTIFIER_TYPES:
        raise bad_request("RecieverIdentifierType")
    return InitiatorCall(
        kind="reversal",
        **_common(body, "Initiator", forbid_keywords=forbid_keywords),
        amount=_amount(body.get("Amount"), minimum=1),
        transaction_id=_receipt(body.get("TransactionID"), "TransactionID"),
        party=_short_code(body.get("ReceiverParty"), "ReceiverParty"),
    )


def check_b2c(body: dict[str, Any], *, forbid_keywords: bool) -> InitiatorCall:
    """``/mpesa/b2c/v3/paymentrequest``: v3 requires OriginatorConversationID."""
    command = _command(body, B2C_COMMANDS)
    common = _common(body, "InitiatorName", forbid_keywords=forbid_keywords)
    if not common["originator_conversation_id"]:
        raise bad_request("OriginatorConversationID")
    return InitiatorCall(
        kind="b2c",
        **common,
        amount=_amount(body.get("Amount"), minimum=B2C_MIN_AMOUNT),
        party=_short_code(body.get("PartyA"), "PartyA"),
        phone=check_msisdn(body.get("PartyB"), "PartyB"),
        command_id=command,
    )


def check_status(body: dict[str, Any], *, forbid_keywords: bool) -> InitiatorCall:
    """``/mpesa/transactionstatus/v1/query``: by TransactionID or by
    OriginalConversationID."""
    _command(body, (STATUS_COMMAND,))
    if as_digits(body.get("IdentifierType")) not in IDENTIFIER_TYPES:
        raise bad_request("IdentifierType")
    receipt = body.get("TransactionID") or ""
    original = body.get("OriginalConversationID") or ""
    if not isinstance(original, str) or not (receipt or original):
        raise bad_request("TransactionID")
    return InitiatorCall(
        kind="transaction_status",
        **_common(body, "Initiator", forbid_keywords=forbid_keywords),
        transaction_id=_receipt(receipt, "TransactionID") if receipt else "",
        original_conversation_id=original.strip(),
        party=_short_code(body.get("PartyA"), "PartyA"),
    )


def _command(body: dict[str, Any], allowed: tuple[str, ...]) -> str:
    command = body.get("CommandID")
    if command not in allowed:
        raise bad_request("CommandID")
    return command


def _common(
    body: dict[str, Any], initiator_key: str, *, forbid_keywords: bool
) -> dict[str, Any]:
    initiator = body.get(initiator_key)
    if not isinstance(initiator, str) or not initiator.strip():
        raise bad_request(initiator_key)
    credential = body.get("SecurityCredential")
    if not isinstance(credential, str) or not credential.strip():
        raise bad_request("SecurityCredential")
    originator = body.get("OriginatorConversationID", "")
    if not isinstance(originator, str) or len(originator) > 100:
        raise bad_request("OriginatorConversationID")
    remarks = body.get("Remarks")
    if not isinstance(remarks, str) or not 2 <= len(remarks.strip()) <= 100:
        raise bad_request("Remarks")
    return {
        "initiator": initiator.strip(),
        "credential": credential.strip(),
        "originator_conversation_id": originator.strip(),
        "result_url": check_url(
            body.get("ResultURL"), "ResultURL", forbid_keywords=forbid_keywords
        ),
        "queue_timeout_url": check_url(
            body.get("QueueTimeOutURL"),
            "QueueTimeOutURL",
            forbid_keywords=forbid_keywords,
        ),
        "remarks": remarks.strip(),
    }


def _amount(value: Any, *, minimum: int) -> int:
    digits = as_digits(value)
    if digits is None or not minimum <= int(digits) <= MAX_AMOUNT:
        raise bad_request("Amount")
    return int(digits)


def _receipt(value: Any, field_name: str) -> str:
    if not isinstance(value, str) or not _RECEIPT.match(value.strip()):
        raise bad_request(field_name)
    return value.strip()


def _short_code(value: Any, field_name: str) -> str:
    digits = as_digits(value)
    if digits is None or not _SHORT_CODE.match(digits):
        raise bad_request(field_name)
    return digits
