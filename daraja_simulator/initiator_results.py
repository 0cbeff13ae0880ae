"""Result bodies of Reversal, B2C and Transaction Status (daraja.md 10).

``{"Result": {ResultType, ResultCode, ResultDesc, OriginatorConversationID,
ConversationID, TransactionID, ResultParameters: {ResultParameter: [{Key,
Value}]}, ReferenceData}}``. ``ResultCode`` is a number (0, 1, 2001) or a
string (``R000001``); failures carry no ``ResultParameters``.
"""

from datetime import datetime
from typing import Any

from .money_out import InitiatorRequest

SUCCESS_DESC = "The service request is processed successfully."
WRONG_CREDENTIAL = (2001, "The initiator information is invalid.")
INSUFFICIENT_BALANCE = (1, "The balance is insufficient for the transaction.")
ALREADY_REVERSED = ("R000001", "The transaction has already been reversed.")
UNKNOWN_ORIGINAL = ("R000002", "The OriginalTransactionID is invalid.")
# Our choices where Daraja documents no code (docs/simulator.md):
AMOUNT_MISMATCH = ("R000003", "The amount does not match the original transaction.")
NOT_FOUND = ("R000002", "No transaction was found for this query.")
QUEUE_TIMEOUT = ("QUEUE_TIMEOUT", "The request timed out in the queue.")
DUPLICATE_MESSAGE = "Duplicate OriginatorConversationID"
ORGANISATION_NAME = "Haki Yetu"
CUSTOMER_NAME = "John Doe"


def _params(**values: Any) -> list[dict[str, Any]]:
    return [{"Key": key, "Value": value} for key, value in values.items()]


def stamp(moment: datetime) -> int:
    """Daraja's ``YYYYMMDDHHMMSS`` (Nairobi) as a number."""
    return int(moment.strftime("%Y%m%d%H%M%S"))


def reversal_parameters(
    request: InitiatorRequest, *, short_code: str, balance: int, when: datetime
) -> list[dict[str, Any]]:
    """A successful reversal's parameters."""
    return _params(
        DebitAccountBalance=f"Utility Account|KES|{balance:.2f}|{balance:.2f}"
        "|0.00|0.00",
        Amount=float(request.amount),
        TransCompletedTime=stamp(when),
        OriginalTransactionID=request.original_receipt,
        Charge=0.0,
        CreditPartyPublicName=f"{request.phone} - {CUSTOMER_NAME}",
        DebitPartyPublicName=f"{short_code} - {ORGANISATION_NAME}",
    )


def b2c_parameters(
    request: InitiatorRequest, *, balance: int, when: datetime
) -> list[dict[str, Any]]:
    """A successful B2C payment's parameters."""
    return _params(
        TransactionAmount=request.amount,
        TransactionReceipt=request.transaction_id,
        B2CRecipientIsRegisteredCustomer="Y",
        B2CChargesPaidAccountAvailableFunds=0.0,
        ReceiverPartyPublicName=f"{request.phone} - {CUSTOMER_NAME}",
        TransactionCompletedDateTime=when.strftime("%d.%m.%Y %H:%M:%S"),
        B2CUtilityAccountAvailableFunds=float(balance),
        B2CWorkingAccountAvailableFunds=0.0,
    )


def status_parameters(
    request: InitiatorRequest, found: dict[str, Any]
) -> list[dict[str, Any]]:
    """A Transaction Status answer about the transaction ``found``."""
    when = found["when"]
    return _params(
        DebitPartyName=found["debit_party"],
        CreditPartyName=found["credit_party"],
        OriginatorConversationID=request.originator_conversation_id,
        InitiatedTime=stamp(when),
        DebitAccountType=found["debit_account"],
        DebitPartyCharges="",
        TransactionReason="",
        ReasonType=found["reason_type"],
        TransactionStatus=found["status"],
        FinalisedTime=stamp(when),
        Amount=float(found["amount"]),
        ConversationID=request.conversation_id,
        ReceiptNo=found["receipt"],
    )


def result_body(request: InitiatorRequest, *, timeout: bool = False) -> dict:
    """What is POSTed to ResultURL (or, ``timeout``, to QueueTimeOutURL)."""
    code, desc = (
        QUEUE_TIMEOUT if timeout else (request.result_code, request.result_desc)
    )
    result: dict[str, Any] = {
        "ResultType": 0,
        "ResultCode": code,
        "ResultDesc": desc,
        "OriginatorConversationID": request.originator_conversation_id,
        "ConversationID": request.conversation_id,
        "TransactionID": "" if timeout else request.transaction_id,
    }
    if request.parameters and not timeout:
        result["ResultParameters"] = {"ResultParameter": request.parameters}
    result["ReferenceData"] = {
        "ReferenceItem": {"Key": "QueueTimeoutURL", "Value": "(simulator)"}
    }
    return {"Result": result}


def ack_body(request: InitiatorRequest) -> dict[str, str]:
    """The synchronous answer: accepted, the outcome comes later."""
    return {
        "OriginatorConversationID": request.originator_conversation_id,
        "ConversationID": request.conversation_id,
        "ResponseCode": "0",
        "ResponseDescription": "Accept the service request successfully",
    }
