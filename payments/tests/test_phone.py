"""Phone number normalisation and masking."""

import pytest

from payments.phone import (
    InvalidPhoneNumber,
    mask_phone,
    masked_phone_digits,
    normalise_phone,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0712345678", "254712345678"),
        ("0112345678", "254112345678"),
        ("712345678", "254712345678"),
        ("112345678", "254112345678"),
        ("+254712345678", "254712345678"),
        ("254712345678", "254712345678"),
        ("+254 712 345 678", "254712345678"),
        ("0712-345-678", "254712345678"),
        (" 0708 374 149 ", "254708374149"),
        ("254-110-345-678", "254110345678"),
        (254708374149, "254708374149"),
        (712345678, "254712345678"),
    ],
)
def test_normalise_phone_accepts_kenyan_mobile_forms(value, expected):
    # given a Kenyan mobile number in one of the forms customers type
    # when it is normalised
    result = normalise_phone(value)

    # then it is Daraja's 12-digit MSISDN
    assert result == expected


@pytest.mark.parametrize(
    "value",
    [
        "0202345678",  # Nairobi landline
        "0412345678",  # Mombasa landline
        "071234567",  # too short
        "07123456789",  # too long
        "25471234567",  # country code, one digit short
        "2547123456789",  # country code, one digit too many
        "+255712345678",  # Tanzania
        "+1712345678",
        "0712abc678",
        "07l2345678",
        "+0712345678",
        "2540712345678",
        "00254712345678",
        "٠٧١٢٣٤٥٦٧٨",  # Arabic-Indic digits
        "",
        "   ",
        "0712.345.678",
        -712345678,  # a negative int is not a number with a separator
    ],
)
def test_normalise_phone_refuses_non_kenyan_mobile_numbers(value):
    # given something that is not a Kenyan mobile number
    # when it is normalised
    with pytest.raises(InvalidPhoneNumber) as excinfo:
        normalise_phone(value)

    # then the error names the phone field
    assert excinfo.value.field == "phone_number"


@pytest.mark.parametrize("value", [None, True, 712345678.0, ["0712345678"]])
def test_normalise_phone_refuses_other_types(value):
    # given a value of the wrong type
    # when it is normalised
    with pytest.raises(InvalidPhoneNumber) as excinfo:
        normalise_phone(value)

    # then it is a validation error, not a TypeError
    assert excinfo.value.field == "phone_number"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("254708374149", "2547******149"),
        (254112345678, "2541******678"),
        ("1234", "****"),
        (None, ""),
    ],
)
def test_mask_phone_hides_the_middle_digits(value, expected):
    # given a phone number
    # when it is masked for a log
    masked = mask_phone(value)

    # then only the prefix and the last three digits remain
    assert masked == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2547****149", ("2547", "149")),
        ("2547 ***** 126", ("2547", "126")),
        ("25472****108", ("25472", "108")),
        ("07******149", ("2547", "149")),
        ("+2547****149", ("2547", "149")),
    ],
)
def test_masked_phone_digits_reads_the_visible_digits(value, expected):
    # given a masked number as Daraja may send it
    # when its visible digits are read
    # then they are the MSISDN's leading and trailing digits
    assert masked_phone_digits(value) == expected


@pytest.mark.parametrize(
    "value", ["a" * 64, "****", "254****", "2547****14", "1234****149", "254708374149"]
)
def test_masked_phone_digits_refuses_what_is_not_a_masked_number(value):
    assert masked_phone_digits(value) is None
