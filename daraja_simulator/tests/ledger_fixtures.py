"""A simulator ledger with one of each movement, for the statement and
Pull Transactions tests: an STK payment whose callback was lost, a
paybill payment, a reversal of a second STK payment and a B2C payout."""

import csv
import io
from typing import Any

import requests

from .fixtures import SHORT_CODE, wait_until
from .initiator_fixtures import InitiatorCaller

PAYBILL_PHONE = "254721234108"


def register_c2b(caller: InitiatorCaller) -> None:
    """C2B URLs for the STK shortcode (any POST receiver will do)."""
    body = {
        "ShortCode": SHORT_CODE,
        "ResponseType": "Completed",
        "ConfirmationURL": caller.callback_url,
        "ValidationURL": caller.callback_url,
    }
    answer = caller.post("/mpesa/c2b/v2/registerurl", body)
    assert answer.status_code == 200


def fill_ledger(caller: InitiatorCaller) -> dict[str, Any]:
    """One of each movement; their receipts (and the B2C's)."""
    caller.control("POST", "faults", {"fault": "lost_callback"})
    lost = caller.paid_receipt(3000)
    register_c2b(caller)
    paybill = caller.control(
        "POST",
        "c2b/pay",
        {
            "phone": PAYBILL_PHONE,
            "amount": 1500,
            "account": "hy-b00043",
            "short_code": SHORT_CODE,
        },
    )["receipt"]
    reversed_receipt = caller.paid_receipt(2000)
    caller.reverse(reversed_receipt, 2000)
    caller.b2c(500)
    wait_until(lambda: len(caller.control("GET", "money-out")["requests"]) == 2)
    moved = caller.control("GET", "money-out")["requests"]
    return {
        "lost": lost,
        "paybill": paybill,
        "reversed": reversed_receipt,
        "reversal": moved[0]["TransactionID"],
        "b2c": moved[1]["TransactionID"],
    }


def statement(caller: InitiatorCaller, **params: str) -> requests.Response:
    """``GET /simulator/statement`` with ``params``."""
    return requests.get(
        caller.base_url + "/simulator/statement", params=params, timeout=5
    )


def statement_rows(text: str) -> tuple[list[list[str]], list[dict[str, str]]]:
    """The header block lines and the rows keyed by column name."""
    lines = list(csv.reader(io.StringIO(text)))
    start = next(i for i, line in enumerate(lines) if line[:1] == ["Receipt No."])
    columns = lines[start]
    rows = [dict(zip(columns, line, strict=True)) for line in lines[start + 1 :]]
    return lines[:start], rows
