"""Hypothesis property tests: phone numbers, amounts and callback bodies.

These state what must hold for *every* input, not for a few chosen ones:
normalisation is one canonical form, validation refuses with one error
type only, and an untrusted callback body never raises past the parser or
the view. Examples are few (fast suite) and derandomised (repeatable in CI).
"""

import json
import os
import string
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from payments.daraja.callbacks import StkCallback, parse_stk_callback
from payments.daraja.exceptions import CallbackParseError, DarajaValidationError
from payments.daraja.validation import MAX_AMOUNT, validate_amount
from payments.phone import InvalidPhoneNumber, normalise_phone
from payments.tests.conftest import callback_url
from payments.tests.factories import PaymentFactory
from payments.tests.payloads import success_callback

# HYPOTHESIS_EXAMPLES=5000 runs a deep, randomised search instead of the
# suite's quick, repeatable one.
_DEEP = int(os.environ.get("HYPOTHESIS_EXAMPLES", "0"))
FAST = settings(max_examples=_DEEP or 150, deadline=None, derandomize=not _DEEP)
WITH_FIXTURES = settings(
    max_examples=_DEEP or 100,
    deadline=None,
    derandomize=not _DEEP,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# --- Strategies ----------------------------------------------------------------

# The nine national digits of a Kenyan mobile: 7XXXXXXXX or 1XXXXXXXX.
national_numbers = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from("71"),
    st.text(alphabet=string.digits, min_size=8, max_size=8),
)
prefixes = st.sampled_from(["", "0", "254", "+254"])
separators = st.sampled_from([" ", "-", "  ", " - ", "\t"])

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(max_size=20), children, max_size=5)
    ),
    max_leaves=25,
)
callback_keys = st.sampled_from(
    [
        "MerchantRequestID",
        "CheckoutRequestID",
        "ResultCode",
        "ResultDesc",
        "CallbackMetadata",
    ]
)
item_names = st.sampled_from(
    ["Amount", "MpesaReceiptNumber", "Balance", "TransactionDate", "PhoneNumber"]
)
items = st.dictionaries(
    st.sampled_from(["Name", "Value"]),
    item_names | json_scalars,
    max_size=2,
)


@st.composite
def separated(draw, text: str) -> str:
    """``text`` with separators inserted between random characters."""
    out = []
    for char in text:
        if out and draw(st.booleans()):
            out.append(draw(separators))
        out.append(char)
    return "".join(out)


@st.composite
def near_callbacks(draw) -> dict:
    """Bodies shaped almost like a callback, so the parser's depths are hit."""
    stk = draw(st.dictionaries(callback_keys, json_values, max_size=5))
    if draw(st.booleans()):
        stk["CallbackMetadata"] = {"Item": draw(st.lists(items, max_size=6))}
    if draw(st.booleans()):
        stk["CheckoutRequestID"] = draw(st.text(min_size=1, max_size=80))
    body = draw(st.sampled_from(["Body", "body", ""]))
    return {body: {"stkCallback": stk}}


any_callback_body = json_values | near_callbacks()
NUL_CHECKOUT_ID = {"Body": {"stkCallback": {"CheckoutRequestID": "ws_CO_\x00"}}}

# --- Phone normalisation ---------------------------------------------------------


@FAST
@given(national=national_numbers, prefix=prefixes, data=st.data())
def test_normalise_phone_gives_one_msisdn_for_every_accepted_format(
    national, prefix, data
):
    # given
    written = data.draw(separated(prefix + national))
    # when
    normalised = normalise_phone(written)
    # then
    assert normalised == "254" + national


@FAST
@given(national=national_numbers)
def test_normalise_phone_accepts_the_number_as_an_int(national):
    # given
    as_int = int("254" + national)
    # when
    normalised = normalise_phone(as_int)
    # then
    assert normalised == "254" + national


def _normalised_or_refused(value: object) -> str | InvalidPhoneNumber:
    try:
        return normalise_phone(value)
    except InvalidPhoneNumber as exc:
        return exc


@FAST
@given(value=st.text() | st.integers() | st.text(alphabet="+0123456789 -"))
def test_normalise_phone_returns_a_12_digit_kenyan_mobile_or_refuses(value):
    # when
    normalised = _normalised_or_refused(value)
    # then
    if isinstance(normalised, InvalidPhoneNumber):
        assert normalised.field == "phone_number"
        return
    assert len(normalised) == 12
    assert normalised.isascii() is True
    assert normalised.isdigit() is True
    assert normalised[:4] in ("2547", "2541")


@FAST
@given(value=json_values | st.binary() | st.decimals() | st.complex_numbers())
def test_normalise_phone_refuses_other_types_with_a_validation_error(value):
    # when (an error other than InvalidPhoneNumber fails the test)
    normalised = _normalised_or_refused(value)
    # then
    if isinstance(value, bool) or not isinstance(value, str | int):
        assert isinstance(normalised, InvalidPhoneNumber)
        assert normalised.field == "phone_number"
        assert normalised.message == "Enter the phone number as text."
    elif isinstance(normalised, InvalidPhoneNumber):
        # A text or an int that is no Kenyan mobile: refused the same way.
        assert normalised.field == "phone_number"
    else:
        assert len(normalised) == 12
        assert normalised[:4] in ("2547", "2541")


# --- Amount validation -----------------------------------------------------------


@FAST
@given(amount=st.integers(min_value=1, max_value=MAX_AMOUNT))
def test_validate_amount_accepts_every_whole_shilling_in_range(amount):
    # when
    validated = validate_amount(amount)
    # then
    assert validated == amount
    assert type(validated) is int


@FAST
@given(
    amount=st.booleans()
    | st.text()
    | st.integers(max_value=0)
    | st.integers(min_value=MAX_AMOUNT + 1)
    | st.floats().filter(lambda f: not f.is_integer())
    | st.decimals().filter(lambda d: not d.is_finite() or d != d.to_integral())
    | st.none()
    | st.lists(st.integers())
)
def test_validate_amount_refuses_everything_else_with_a_validation_error(amount):
    # when / then
    with pytest.raises(DarajaValidationError) as caught:
        validate_amount(amount)
    assert caught.value.field == "amount"


@FAST
@given(amount=st.integers(min_value=1, max_value=MAX_AMOUNT))
def test_validate_amount_accepts_integral_floats_and_decimals(amount):
    # when
    results = {validate_amount(float(amount)), validate_amount(Decimal(amount))}
    # then
    assert results == {amount}


# --- Callback parsing ------------------------------------------------------------


@FAST
@given(payload=any_callback_body)
def test_parse_stk_callback_raises_only_callback_parse_error(payload):
    # when / then
    try:
        callback = parse_stk_callback(payload)
    except CallbackParseError:
        return
    assert callback.checkout_request_id
    assert isinstance(callback.result_code, str)


@FAST
@given(body=st.binary(max_size=200) | st.text(max_size=200))
def test_parse_stk_callback_on_raw_bytes_raises_only_callback_parse_error(body):
    # when (an error other than CallbackParseError fails the test)
    try:
        parsed = parse_stk_callback(body)
    except CallbackParseError as refused:
        parsed = refused
    # then
    assert isinstance(parsed, StkCallback | CallbackParseError)


def _fields(callback) -> tuple:
    return (
        callback.merchant_request_id,
        callback.checkout_request_id,
        callback.result_code,
        callback.result_desc,
        callback.amount,
        callback.mpesa_receipt_number,
        callback.transaction_date,
        callback.phone_number,
        callback.balance,
    )


@FAST
@given(
    checkout_id=st.text(alphabet=string.ascii_letters + "_", min_size=1, max_size=40),
    amount=st.integers(min_value=1, max_value=MAX_AMOUNT),
    as_float=st.booleans(),
    data=st.data(),
)
def test_parse_stk_callback_reads_items_in_any_order_the_same(
    checkout_id, amount, as_float, data
):
    # given
    payload = success_callback(
        checkout_id, amount=float(amount) if as_float else amount
    )
    expected = _fields(parse_stk_callback(payload))
    item_list = payload["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    payload["Body"]["stkCallback"]["CallbackMetadata"]["Item"] = data.draw(
        st.permutations(item_list)
    )
    # when
    parsed = parse_stk_callback(json.dumps(payload))
    # then
    assert _fields(parsed) == expected
    assert parsed.amount == amount
    assert parsed.is_success is True


# --- Through the real view -------------------------------------------------------


@pytest.mark.django_db
@WITH_FIXTURES
@given(payload=any_callback_body)
# Found by this test: a NUL in CheckoutRequestID reached a PostgreSQL query
# before the body was stored (500, nothing kept). Now it is a stored 400.
@example(payload=NUL_CHECKOUT_ID)
def test_callback_view_answers_200_or_400_for_any_json(client, payload):
    # when
    response = client.generic(
        "POST", callback_url(), json.dumps(payload), content_type="application/json"
    )
    # then
    assert response.status_code in (200, 400)


@pytest.mark.django_db
@WITH_FIXTURES
@given(body=st.binary(max_size=300))
def test_callback_view_answers_200_or_400_for_any_bytes(client, body):
    # when
    response = client.generic(
        "POST", callback_url(), body, content_type="application/json"
    )
    # then
    assert response.status_code in (200, 400)


@pytest.mark.django_db
@WITH_FIXTURES
@given(metadata=st.lists(items, max_size=6), result_code=json_scalars)
def test_callback_view_never_fails_on_a_known_payment_with_odd_metadata(
    client, metadata, result_code
):
    # given
    payment = PaymentFactory()
    payload = success_callback(payment.checkout_request_id)
    payload["Body"]["stkCallback"]["ResultCode"] = result_code
    payload["Body"]["stkCallback"]["CallbackMetadata"]["Item"] = metadata
    # when
    response = client.generic(
        "POST", callback_url(), json.dumps(payload), content_type="application/json"
    )
    # then
    assert response.status_code in (200, 400)
