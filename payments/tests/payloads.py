"""Daraja-shaped callback bodies, built like Safaricom's documented samples."""

import json


def success_callback(
    checkout_request_id: str,
    *,
    amount: float = 3000.0,
    receipt: str = "NLJ7RT61SV",
    phone: int | str = 254708374149,
    transaction_date: int = 20261127102115,
    reverse_items: bool = False,
    merchant_request_id: str = "29115-34620561-1",
) -> dict:
    items = [
        {"Name": "Amount", "Value": amount},
        {"Name": "MpesaReceiptNumber", "Value": receipt},
        {"Name": "Balance"},
        {"Name": "TransactionDate", "Value": transaction_date},
        {"Name": "PhoneNumber", "Value": phone},
    ]
    if reverse_items:
        items.reverse()
    return {
        "Body": {
            "stkCallback": {
                "MerchantRequestID": merchant_request_id,
                "CheckoutRequestID": checkout_request_id,
                "ResultCode": 0,
                "ResultDesc": "The service request is processed successfully.",
                "CallbackMetadata": {"Item": items},
            }
        }
    }


def failure_callback(
    checkout_request_id: str,
    *,
    code: int | str = 1032,
    desc: str = "Request cancelled by user",
    merchant_request_id: str = "29115-34620561-1",
) -> dict:
    return {
        "Body": {
            "stkCallback": {
                "MerchantRequestID": merchant_request_id,
                "CheckoutRequestID": checkout_request_id,
                "ResultCode": code,
                "ResultDesc": desc,
            }
        }
    }


def as_bytes(payload: object) -> bytes:
    return json.dumps(payload).encode()
