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


def c2b_request(
    *,
    account: str,
    amount: str | int | float = "3000.00",
    trans_id: str = "TLK1234XYZ",
    version: str = "v2",
    phone: str = "254708374149",
    short_code: str = "600984",
    trans_time: str = "20261202101530",
    balance: str = "",
) -> dict:
    """A C2B validation/confirmation body as Daraja sends it (CustomerToBusiness
    docs; the simulator's ``c2b_payload``): v1 hashes the MSISDN, v2 masks it."""
    import hashlib

    msisdn = (
        hashlib.sha256(phone.encode()).hexdigest()
        if version == "v1"
        else f"{phone[:4]} ***** {phone[-3:]}"
    )
    return {
        "TransactionType": "Pay Bill",
        "TransID": trans_id,
        "TransTime": trans_time,
        "TransAmount": amount,
        "BusinessShortCode": short_code,
        "BillRefNumber": account,
        "InvoiceNumber": "",
        "OrgAccountBalance": balance,
        "ThirdPartyTransID": "",
        "MSISDN": msisdn,
        "FirstName": "John",
        "MiddleName": "",
        "LastName": "Doe",
    }
