"""Parsing the untrusted C2B (Paybill) validation/confirmation body."""

import hashlib
from datetime import datetime
from decimal import Decimal

import pytest

from core.time import NAIROBI
from payments.daraja.c2b import parse_c2b_request
from payments.daraja.exceptions import CallbackParseError
from payments.tests.payloads import as_bytes, c2b_request


def test_parse_c2b_request_reads_a_v2_body_with_its_masked_msisdn():
    # given
    body = c2b_request(account="hy-abc 234", version="v2")
    # when
    request = parse_c2b_request(as_bytes(body))
    # then
    assert request.trans_id == "TLK1234XYZ"
    assert request.msisdn == "2547 ***** 149"
    assert request.amount == Decimal("3000.00")
    assert request.whole_amount == 3000
    assert request.bill_ref_number == "hy-abc 234"
    assert request.short_code == "600984"
    assert request.payer_name == "John Doe"
    assert request.trans_time == datetime(2026, 12, 2, 10, 15, 30, tzinfo=NAIROBI)


def test_parse_c2b_request_reads_a_v1_body_with_its_hashed_msisdn():
    # given
    body = c2b_request(account="HYABC234", version="v1")
    # when
    request = parse_c2b_request(body)
    # then
    assert request.msisdn == hashlib.sha256(b"254708374149").hexdigest()


@pytest.mark.parametrize(
    ("amount", "whole"),
    [
        ("3000.00", 3000),
        ("3000", 3000),
        (3000, 3000),
        (3000.0, 3000),
        (" 5.5 ", None),
        ("3,000", 3000),
        ("3,000.00", 3000),
        ("1,234,567", 1234567),
        ("3,000.50", None),
    ],
)
def test_parse_c2b_request_takes_the_amount_as_text_or_number(amount, whole):
    # when
    request = parse_c2b_request(c2b_request(account="X", amount=amount))
    # then
    assert request.whole_amount == whole


def test_parse_c2b_request_joins_the_names_it_has():
    # given
    body = c2b_request(account="X") | {"FirstName": "Wanjiru", "MiddleName": "A"}
    body["LastName"] = ""
    # when
    request = parse_c2b_request(body)
    # then
    assert request.payer_name == "Wanjiru A"


def test_parse_c2b_request_upper_cases_the_trans_id():
    # when
    request = parse_c2b_request(c2b_request(account="X", trans_id=" tlk1234xyz "))
    # then
    assert request.trans_id == "TLK1234XYZ"


@pytest.mark.parametrize("trans_time", ["", "2026-12-02", "00010101000000", 7])
def test_parse_c2b_request_leaves_an_unusable_trans_time_empty(trans_time):
    # when
    request = parse_c2b_request(c2b_request(account="X", trans_time=trans_time))
    # then
    assert request.trans_time is None


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        as_bytes(c2b_request(account="X") | {"TransID": ""}),
        as_bytes(c2b_request(account="X") | {"TransID": "ABC-123"}),
        as_bytes(c2b_request(account="X") | {"TransAmount": "3,00"}),
        as_bytes(c2b_request(account="X") | {"TransAmount": "30,00,000"}),
        as_bytes(c2b_request(account="X") | {"TransAmount": ",300"}),
        as_bytes(c2b_request(account="X") | {"TransAmount": "3.000,00"}),
        as_bytes(c2b_request(account="X") | {"TransAmount": "-5"}),
        as_bytes(c2b_request(account="X") | {"TransAmount": True}),
        as_bytes(
            {k: v for k, v in c2b_request(account="X").items() if k != "TransAmount"}
        ),
        as_bytes(c2b_request(account="X\u0000")),
    ],
)
def test_parse_c2b_request_refuses_what_is_not_a_c2b_request(body):
    # when / then
    with pytest.raises(CallbackParseError):
        parse_c2b_request(body)
