"""Issue 13, point 5 (review finding D): the C2B URLs never answer 500.

Whatever Safaricom (or anyone who knows the secret) posts, validation
answers Daraja's JSON (``C2B00016`` for a body that is not a C2B request)
and confirmation acknowledges what it stored, or answers a clear 400 in the
project's error shape; the raw request is always stored, and nothing is
half-written in the ledger. Runs on SQLite and, with DATABASE_URL, on
PostgreSQL (whose text and jsonb columns refuse NUL).
"""

import json

import pytest

from bookings.models import Booking
from bookings.tests.factories import BookingFactory
from payments.models import MpesaReceipt, PaymentEvent
from payments.tests.conftest import c2b_url
from payments.tests.payloads import c2b_request

pytestmark = pytest.mark.django_db
ACK = {"ResultCode": 0, "ResultDesc": "Accepted"}
Kind = PaymentEvent.Kind


def _body(**changes: object) -> bytes:
    body = c2b_request(account="HYABC234")
    for key, value in changes.items():
        if value is _MISSING:
            body.pop(key)
        else:
            body[key] = value
    return json.dumps(body).encode()


_MISSING = object()

# Bodies that are not a C2B request.
MALFORMED = {
    "empty": b"",
    "not json": b"TransID=TLK1234XYZ&TransAmount=3000",
    "json array": b'[{"TransID": "TLK1234XYZ", "TransAmount": "3000"}]',
    "json string": b'"TLK1234XYZ"',
    "json null": b"null",
    "not utf-8": b'{"TransID": "\xff\xfe", "TransAmount": "3000"}',
    "deeply nested": b"[" * 20_000 + b"]" * 20_000,
    "amount object": _body(TransAmount={"value": 3000}),
    "amount list": _body(TransAmount=[3000]),
    "amount bool": _body(TransAmount=True),
    "amount null": _body(TransAmount=None),
    "amount 1e309 text": _body(TransAmount="1e309"),
    "amount 1e309 number": b'{"TransID": "TLK1234XYZ", "TransAmount": 1e309}',
    "amount NaN": b'{"TransID": "TLK1234XYZ", "TransAmount": NaN}',
    "amount Infinity": b'{"TransID": "TLK1234XYZ", "TransAmount": Infinity}',
    "amount huge integer": _body(TransAmount=10**400),
    "amount negative text": _body(TransAmount="-3000"),
    "amount negative number": _body(TransAmount=-3000),
    "amount empty": _body(TransAmount=""),
    "amount with letters": _body(TransAmount="3000 KES"),
    "missing TransID": _body(TransID=_MISSING),
    "TransID null": _body(TransID=None),
    "TransID object": _body(TransID={"id": "TLK1234XYZ"}),
    "TransID list": _body(TransID=["TLK1234XYZ"]),
    "TransID too long": _body(TransID="A" * 21),
    "TransID with symbols": _body(TransID="TLK'; DROP--"),
    "TransID unicode": _body(TransID="TLK१२३४"),
    "NUL in TransID": _body(TransID="TLK\u00001234"),
    "NUL in BillRefNumber": _body(BillRefNumber="HY\u0000ABC234"),
    "lone surrogate": b'{"TransID": "TLK1234XYZ", "TransAmount": "3000", '
    b'"FirstName": "\\ud800"}',
}

# Well-formed enough to be a C2B request, with odd fields that must be
# read safely (stored, answered, recorded or noted; never a 500).
ODD_BUT_USABLE = {
    "MSISDN int": _body(MSISDN=254708374149),
    "MSISDN object": _body(MSISDN={"n": "254708374149"}),
    "BillRefNumber 5000 chars": _body(BillRefNumber="HY" + "A" * 4998),
    "BillRefNumber int": _body(BillRefNumber=12345678),
    "BillRefNumber list": _body(BillRefNumber=["HYABC234"]),
    "names unicode": _body(FirstName="Wanjikũ", LastName="Ōtieno 🙂"),
    "names objects": _body(FirstName={"a": 1}, MiddleName=[1], LastName=True),
    "TransTime garbage": _body(TransTime="yesterday"),
    "TransTime object": _body(TransTime={"t": 1}),
    "TransTime year 9999": _body(TransTime="99991231235959"),
    "amount number": _body(TransAmount=3000),
    "amount float fraction": _body(TransAmount=3000.5),
    "amount zero": _body(TransAmount="0"),
    "amount 12 digits": _body(TransAmount="999999999999"),
    "amount with 6 decimals": _body(TransAmount="3000.000001"),
    "TransID lower case": _body(TransID="tlk1234xyz"),
    "unknown keys": _body(Extra={"nested": [1, 2, {"x": None}]}),
}


def _post(client, endpoint: str, body: bytes, content_type="application/json"):
    return client.generic("POST", c2b_url(endpoint), body, content_type=content_type)


def _assert_error_shape(response) -> None:
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "malformed_c2b_request"
    assert error["message"]


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_validation_of_a_malformed_body_is_stored_and_rejected_c2b00016(
    client, settings, body
):
    # given
    settings.MPESA_C2B_VALIDATE = True
    # when
    response = _post(client, "validation", body)
    # then
    assert response.status_code == 200
    assert response.json()["ResultCode"] == "C2B00016"
    assert response.json()["ResultDesc"].startswith("Rejected")
    event = PaymentEvent.objects.get(kind=Kind.C2B_VALIDATION)
    assert event.error.startswith("malformed")
    assert MpesaReceipt.objects.exists() is False


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_confirmation_of_a_malformed_body_is_stored_and_refused_400(client, body):
    # when
    response = _post(client, "confirmation", body)
    # then
    _assert_error_shape(response)
    event = PaymentEvent.objects.get(kind=Kind.C2B_CONFIRMATION)
    assert event.error.startswith("malformed")
    assert MpesaReceipt.objects.exists() is False


@pytest.mark.parametrize("validate", [True, False])
@pytest.mark.parametrize("body", ODD_BUT_USABLE.values(), ids=ODD_BUT_USABLE.keys())
def test_validation_of_odd_fields_answers_daraja_json(client, settings, body, validate):
    # given
    settings.MPESA_C2B_VALIDATE = validate
    # when
    response = _post(client, "validation", body)
    # then
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == {"ResultCode", "ResultDesc"}
    assert answer["ResultCode"] in ("0", "C2B00012", "C2B00013", "C2B00016")
    assert PaymentEvent.objects.filter(kind=Kind.C2B_VALIDATION).count() == 1
    assert MpesaReceipt.objects.exists() is False


@pytest.mark.parametrize("body", ODD_BUT_USABLE.values(), ids=ODD_BUT_USABLE.keys())
def test_confirmation_of_odd_fields_is_acknowledged_once_stored(client, body):
    # when
    response = _post(client, "confirmation", body)
    # then: stored; the money recorded (whole KES) or noted, never applied
    # half-way (a note "failed ... apply it by hand" means it raised)
    assert response.status_code == 200
    assert response.json() == ACK
    assert PaymentEvent.objects.filter(kind=Kind.C2B_CONFIRMATION).count() == 1
    failed = PaymentEvent.objects.filter(kind=Kind.NOTE, reason__contains="failed")
    assert failed.exists() is False
    for receipt in MpesaReceipt.objects.all():
        assert 1 <= receipt.amount < 2**31
        assert receipt.sightings.count() == 1


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "", "application/xml"],
)
def test_confirmation_with_another_content_type_is_read_as_its_bytes(
    client, content_type
):
    # given: a booking awaiting KES 3,000, paid by a body whose header lies
    booking = BookingFactory(amount=3000)
    body = json.dumps(c2b_request(account=booking.reference)).encode()
    # when
    response = _post(client, "confirmation", body, content_type=content_type)
    # then
    assert response.status_code == 200
    assert response.json() == ACK
    booking.refresh_from_db()
    assert booking.payment_status == Booking.PaymentStatus.PAID


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data", ""])
def test_validation_with_another_content_type_answers_daraja_json(
    client, settings, content_type
):
    # given
    settings.MPESA_C2B_VALIDATE = True
    booking = BookingFactory(amount=3000)
    body = json.dumps(c2b_request(account=booking.reference)).encode()
    # when
    response = _post(client, "validation", body, content_type=content_type)
    # then
    assert response.status_code == 200
    assert response.json() == {"ResultCode": "0", "ResultDesc": "Accepted"}


@pytest.mark.parametrize("endpoint", ["validation", "confirmation"])
def test_a_body_over_64_kib_is_refused_413_before_it_is_stored(client, endpoint):
    # when
    response = _post(client, endpoint, b"[" * 40_000 + b"]" * 40_000)
    # then
    assert response.status_code == 413
    assert PaymentEvent.objects.exists() is False


def test_confirmation_with_a_5000_character_account_keeps_128_and_no_booking(client):
    # when
    response = _post(client, "confirmation", _body(BillRefNumber="HY" + "A" * 4998))
    # then
    assert response.json() == ACK
    receipt = MpesaReceipt.objects.get()
    assert receipt.unallocated_reason == MpesaReceipt.UnallocatedReason.UNKNOWN_ACCOUNT
    assert len(receipt.account_reference) <= 64


def test_confirmation_of_an_amount_too_large_for_the_ledger_is_noted_not_recorded(
    client,
):
    # when
    response = _post(client, "confirmation", _body(TransAmount="999999999999"))
    # then
    assert response.json() == ACK
    assert MpesaReceipt.objects.exists() is False
    note = PaymentEvent.objects.get(kind=Kind.NOTE)
    assert "more than any M-Pesa payment" in note.reason
