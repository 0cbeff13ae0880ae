"""Refunds sent and M-Pesa's answers to them, for the result tests: refunds
made by the real services, result bodies shaped as Daraja posts them
(daraja.md section 10; the payloads in ``daraja/payloads``)."""

import json

from payments.models import Refund, TransactionStatusCheck
from payments.services.refund_submission import refund_submit
from payments.services.refunds import refund_approve, refund_request
from payments.tests.refund_support import cancelled_paid_booking_receipt, staff_in

SHORT_CODE = "174379"


def approved_refund(receipt=None, *, amount: int | None = None) -> Refund:
    """A refund of ``receipt`` (default: a cancelled paid booking's, KES
    3,000) requested by Support and approved by Finance."""
    receipt = receipt or cancelled_paid_booking_receipt()
    support = staff_in("Support")
    finance = staff_in("Finance")
    refund = refund_request(
        receipt_number=receipt.receipt_number,
        reason=Refund.Reason.CANCELLED,
        actor=support,
        amount=amount,
    )
    return refund_approve(refund_id=refund.pk, actor=finance)


def submitted_refund(fake_daraja, receipt=None, **kwargs) -> Refund:
    """An approved refund sent through ``refund_submit`` to the fake."""
    refund = approved_refund(receipt, **kwargs)
    return refund_submit(refund_id=refund.pk)


def _result(
    *,
    originator: str,
    conversation: str,
    code: object = 0,
    desc: str = "The service request is processed successfully.",
    transaction_id: str = "",
    parameters: dict | None = None,
) -> dict:
    result = {
        "ResultType": 0,
        "ResultCode": code,
        "ResultDesc": desc,
        "OriginatorConversationID": originator,
        "ConversationID": conversation,
        "TransactionID": transaction_id,
    }
    if parameters:
        result["ResultParameters"] = {
            "ResultParameter": [{"Key": k, "Value": v} for k, v in parameters.items()]
        }
    return {"Result": result}


def reversal_result(
    refund: Refund, *, code: object = 0, receipt: str = "RLK7OUT001", desc: str = ""
) -> dict:
    """The result of ``refund``'s Reversal (``code`` 0: the money went
    back under ``receipt``; else a failure without parameters)."""
    ok = code == 0
    return _result(
        originator=str(refund.originator_conversation_id),
        conversation=refund.conversation_id or "AG_20261202_0000REVERSAL",
        code=code,
        desc=desc or ("The service request is processed successfully." if ok else "No"),
        transaction_id=receipt if ok else "",
        parameters={
            "Amount": float(refund.amount),
            "TransCompletedTime": 20261202101500,
            "OriginalTransactionID": refund.receipt.receipt_number,
            "CreditPartyPublicName": "254708374149 - John Doe",
            "DebitPartyPublicName": f"{SHORT_CODE} - Haki Yetu",
        }
        if ok
        else None,
    )


def b2c_result(refund: Refund, *, receipt: str = "RLK7B2C001") -> dict:
    """A successful B2C result for ``refund``."""
    return _result(
        originator=str(refund.originator_conversation_id),
        conversation=refund.conversation_id or "AG_20261202_0000B2C",
        transaction_id=receipt,
        parameters={
            "TransactionAmount": refund.amount,
            "TransactionReceipt": receipt,
            "ReceiverPartyPublicName": "254708374149 - John Doe",
            "TransactionCompletedDateTime": "02.12.2026 10:15:00",
        },
    )


def timeout_notice(originator: str, conversation: str = "") -> dict:
    """A QueueTimeOutURL notice (no parameters, no TransactionID)."""
    return _result(
        originator=originator,
        conversation=conversation,
        code="QUEUE_TIMEOUT",
        desc="The request timed out in the queue.",
    )


def status_result(
    check: TransactionStatusCheck,
    *,
    status: str = "Completed",
    receipt: str = "RLK7OUT001",
    amount: float = 3000.0,
    credit_party: str = "254708374149 - John Doe",
    debit_party: str = f"{SHORT_CODE} - Haki Yetu",
    reason_type: str = "Reversal",
    code: object = 0,
) -> dict:
    """M-Pesa's Transaction Status answer to ``check``."""
    ok = code == 0
    return _result(
        originator=str(check.originator_conversation_id),
        conversation=check.conversation_id,
        code=code,
        desc="The service request is processed successfully." if ok else "Not found",
        transaction_id=receipt if ok else "",
        parameters={
            "DebitPartyName": debit_party,
            "CreditPartyName": credit_party,
            "InitiatedTime": 20261202101500,
            "ReasonType": reason_type,
            "TransactionStatus": status,
            "FinalisedTime": 20261202101502,
            "Amount": amount,
            "ReceiptNo": receipt.lower(),
        }
        if ok
        else None,
    )


def as_bytes(body: dict) -> bytes:
    return json.dumps(body).encode()
