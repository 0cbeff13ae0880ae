"""Typed values read from an ``AsyncResult``'s parameters.

Reversal (``DebitAccountBalance``, ``Amount``, ``TransCompletedTime``,
``OriginalTransactionID``, ``Charge``, ``CreditPartyPublicName``,
``DebitPartyPublicName``), Transaction Status (``ReceiptNo``,
``TransactionStatus``, ``Amount``, ``InitiatedTime``, ``FinalisedTime``,
party names...) and B2C (``TransactionAmount``, ``TransactionReceipt``,
``ReceiverPartyPublicName``, ``TransactionCompletedDateTime``...), per
daraja.md section 10. Amounts are whole KES ints when they are whole
numbers (else None, the text kept beside); receipts are upper case; times
are aware Africa/Nairobi datetimes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from core.time import NAIROBI
from payments.daraja.types import AsyncResult

# Daraja writes times as 20191122063845, or (B2C) as 19.12.2019 11:45:50.
_TIME_FORMATS = (
    (re.compile(r"\d{14}"), "%Y%m%d%H%M%S"),
    (re.compile(r"\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}"), "%d.%m.%Y %H:%M:%S"),
)
_PLAIN_NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,6})?")


@dataclass(frozen=True, slots=True)
class ReversalFields:
    """What a reversal result says. ``transaction_id`` is the reversal's
    own receipt; ``original_transaction_id`` the receipt it reversed."""

    transaction_id: str
    original_transaction_id: str
    amount: int | None
    amount_text: str
    charge: int | None
    completed_at: datetime | None
    credit_party_public_name: str
    debit_party_public_name: str
    debit_account_balance: str


@dataclass(frozen=True, slots=True)
class TransactionStatusFields:
    """What a Transaction Status result says about one transaction."""

    receipt_no: str
    transaction_status: str
    amount: int | None
    amount_text: str
    initiated_at: datetime | None
    finalised_at: datetime | None
    debit_party_name: str
    credit_party_name: str
    debit_account_type: str
    debit_party_charges: str
    transaction_reason: str
    reason_type: str
    originator_conversation_id: str
    conversation_id: str

    @property
    def is_completed(self) -> bool:
        """True when M-Pesa says the transaction completed."""
        return self.transaction_status.lower() == "completed"

    @property
    def is_reversed(self) -> bool:
        """True when M-Pesa says the transaction was reversed."""
        return self.transaction_status.lower() == "reversed"


@dataclass(frozen=True, slots=True)
class B2CFields:
    """What a B2C result says about the payment to the customer."""

    transaction_receipt: str
    amount: int | None
    amount_text: str
    receiver_party_public_name: str
    completed_at: datetime | None
    is_registered_customer: str
    utility_account_balance: str
    working_account_balance: str


def reversal_fields(result: AsyncResult) -> ReversalFields:
    """The reversal parameters of ``result`` (empty values on a failure)."""
    get = result.parameters.get
    return ReversalFields(
        transaction_id=result.transaction_id.upper(),
        original_transaction_id=(get("OriginalTransactionID") or "").upper(),
        amount=whole_kes(get("Amount")),
        amount_text=get("Amount") or "",
        charge=whole_kes(get("Charge")),
        completed_at=nairobi_time(get("TransCompletedTime")),
        credit_party_public_name=get("CreditPartyPublicName") or "",
        debit_party_public_name=get("DebitPartyPublicName") or "",
        debit_account_balance=get("DebitAccountBalance") or "",
    )


def transaction_status_fields(result: AsyncResult) -> TransactionStatusFields:
    """The Transaction Status parameters of ``result``."""
    get = result.parameters.get
    return TransactionStatusFields(
        receipt_no=(get("ReceiptNo") or "").upper(),
        transaction_status=get("TransactionStatus") or "",
        amount=whole_kes(get("Amount")),
        amount_text=get("Amount") or "",
        initiated_at=nairobi_time(get("InitiatedTime")),
        finalised_at=nairobi_time(get("FinalisedTime")),
        debit_party_name=get("DebitPartyName") or "",
        credit_party_name=get("CreditPartyName") or "",
        debit_account_type=get("DebitAccountType") or "",
        debit_party_charges=get("DebitPartyCharges") or "",
        transaction_reason=get("TransactionReason") or "",
        reason_type=get("ReasonType") or "",
        originator_conversation_id=get("OriginatorConversationID") or "",
        conversation_id=get("ConversationID") or "",
    )


def b2c_fields(result: AsyncResult) -> B2CFields:
    """The B2C parameters of ``result``."""
    get = result.parameters.get
    return B2CFields(
        transaction_receipt=(
            get("TransactionReceipt") or result.transaction_id
        ).upper(),
        amount=whole_kes(get("TransactionAmount")),
        amount_text=get("TransactionAmount") or "",
        receiver_party_public_name=get("ReceiverPartyPublicName") or "",
        completed_at=nairobi_time(get("TransactionCompletedDateTime")),
        is_registered_customer=get("B2CRecipientIsRegisteredCustomer") or "",
        utility_account_balance=get("B2CUtilityAccountAvailableFunds") or "",
        working_account_balance=get("B2CWorkingAccountAvailableFunds") or "",
    )


def whole_kes(value: str | None) -> int | None:
    """``"100"``, ``"100.0"``, ``"100.00"`` -> 100; anything else None."""
    if value is None or not _PLAIN_NUMBER.fullmatch(value.strip()):
        return None
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        return None
    return int(amount) if amount == amount.to_integral_value() else None


def nairobi_time(value: str | None) -> datetime | None:
    """A Daraja time (Kenyan wall clock, no zone) as an aware datetime."""
    text = (value or "").strip()
    for pattern, layout in _TIME_FORMATS:
        if pattern.fullmatch(text):
            try:
                naive = datetime.strptime(text, layout)  # noqa: DTZ007
            except ValueError:
                return None
            return naive.replace(tzinfo=NAIROBI)
    return None
