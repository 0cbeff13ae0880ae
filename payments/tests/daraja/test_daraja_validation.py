"""Checks on STK push inputs: amount, reference, description, callback URL."""

import logging
from decimal import Decimal

import pytest

from payments.daraja.exceptions import DarajaValidationError
from payments.daraja.types import DarajaEnvironment
from payments.daraja.validation import (
    shorten_description,
    validate_account_reference,
    validate_amount,
    validate_callback_url,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1),
        (3000, 3000),
        (250_000, 250_000),
        (3000.0, 3000),
        (Decimal("3000"), 3000),
        (Decimal("3000.00"), 3000),
    ],
)
def test_validate_amount_accepts_whole_shillings(value, expected):
    # given a whole amount within M-Pesa's limits
    # when it is validated
    result = validate_amount(value)

    # then it is sent as an int
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    "value",
    [
        0,
        -1,
        250_001,
        1_000_000,
        0.0,
        100.5,
        Decimal("100.50"),
        Decimal("0.5"),
        float("nan"),
        float("inf"),
        Decimal("NaN"),
        True,
        False,
        "1500",
        "1500.00",
        None,
        [1500],
    ],
)
def test_validate_amount_refuses_anything_else(value):
    # given an amount M-Pesa would refuse or that is not a number
    # when it is validated
    with pytest.raises(DarajaValidationError) as excinfo:
        validate_amount(value)

    # then the error names the amount field
    assert excinfo.value.field == "amount"


@pytest.mark.parametrize("value", ["BK1042", "A", "HAKI YETU 12", "123456789012"])
def test_validate_account_reference_keeps_valid_references(value):
    # given a reference of 1-12 letters, digits or spaces
    # when it is validated
    # then it is returned unchanged
    assert validate_account_reference(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "1234567890123",  # 13 characters: refused, never cut
        "BK#1042",
        "BK-1042",
        "BK@1042",
        "Bööking",
        "BK\t1042",
        None,
        1042,
    ],
)
def test_validate_account_reference_refuses_invalid_references(value):
    # given a reference Daraja would refuse
    # when it is validated
    with pytest.raises(DarajaValidationError) as excinfo:
        validate_account_reference(value)

    # then the error names the account reference field
    assert excinfo.value.field == "account_reference"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Consultation", "Consultation"),
        ("Legal consultation fee", "Legal consulta"[:13]),
        ("Fee #42 & tax", "Fee 42 tax"),
        ("  spaced   out  ", "spaced out"),
        ("@#&!", "Payment"),
        ("", "Payment"),
        (None, "Payment"),
        ("ABCDEFGHIJKL M", "ABCDEFGHIJKL"),
    ],
)
def test_shorten_description_fits_daraja_rules(value, expected):
    # given any description
    # when it is shortened
    result = shorten_description(value)

    # then it is 1-13 safe characters
    assert result == expected
    assert 1 <= len(result) <= 13


@pytest.mark.parametrize(
    ("url", "environment"),
    [
        ("https://api.hakiyetu.co.ke/payments/lnm/cb/abc/", "production"),
        ("https://api.hakiyetu.co.ke/payments/lnm/cb/abc/", "sandbox"),
        ("http://127.0.0.1:8000/payments/lnm/cb/abc/", "sandbox"),
        ("http://localhost:8000/cb/", DarajaEnvironment.SANDBOX),
    ],
)
def test_validate_callback_url_accepts_reachable_urls(url, environment):
    # given a callback URL suitable for the environment
    # when it is validated
    # then it is returned unchanged
    assert validate_callback_url(url, environment=environment) == url


@pytest.mark.parametrize(
    ("url", "environment"),
    [
        ("http://api.hakiyetu.co.ke/cb/", "production"),
        ("https://localhost/cb/", "production"),
        ("https://127.0.0.1/cb/", "production"),
        ("https://10.0.0.5/cb/", "production"),
        (" https://api.hakiyetu.co.ke/cb/", "sandbox"),
        ("https://api.hakiyetu.co.ke/cb/ ", "sandbox"),
        ("https://api.hakiyetu.co.ke/c b/", "sandbox"),
        ("/payments/lnm/cb/", "sandbox"),
        ("ftp://api.hakiyetu.co.ke/cb/", "sandbox"),
        ("https://", "sandbox"),
        ("", "sandbox"),
        (None, "sandbox"),
    ],
)
def test_validate_callback_url_refuses_unusable_urls(url, environment):
    # given a callback URL Daraja cannot or must not call
    # when it is validated
    with pytest.raises(DarajaValidationError) as excinfo:
        validate_callback_url(url, environment=environment)

    # then the error names the callback URL field
    assert excinfo.value.field == "callback_url"


def test_validate_callback_url_warns_about_words_daraja_may_refuse(caplog):
    # given a callback URL containing "mpesa" (rejected by the sandbox)
    url = "https://api.hakiyetu.co.ke/mpesa/callback/"

    # when it is validated
    with caplog.at_level(logging.WARNING, logger="payments.daraja.validation"):
        result = validate_callback_url(url, environment="sandbox")

    # then it is kept (production use is uncertain) but a warning is logged
    assert result == url
    assert "may refuse" in caplog.text
