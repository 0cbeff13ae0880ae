"""Issue 13, points 5 and 6: the C2B validation URL answers Safaricom."""

import pytest

from bookings.tests.factories import BookingFactory
from core.tests.outage import database_unreachable
from payments.models import MpesaReceipt, PaymentEvent
from payments.tests.conftest import c2b_url
from payments.tests.payloads import as_bytes, c2b_request

pytestmark = pytest.mark.django_db
ACCEPTED = {"ResultCode": "0", "ResultDesc": "Accepted"}


@pytest.fixture(autouse=True)
def _validate_on(settings):
    settings.MPESA_C2B_VALIDATE = True


def validate(client, body, secret=None):
    url = c2b_url("validation") if secret is None else c2b_url("validation", secret)
    payload = body if isinstance(body, bytes) else as_bytes(body)
    return client.generic("POST", url, payload, content_type="application/json")


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_validation_accepts_the_exact_amount_for_a_booking_awaiting_payment(
    client, version
):
    # given
    booking = BookingFactory(amount=3000)
    # when
    response = validate(client, c2b_request(account=booking.reference, version=version))
    # then
    assert response.status_code == 200
    assert response.json() == ACCEPTED


@pytest.mark.parametrize("typed", ["{r}", "{lower}", "{dashed}", " {spaced} "])
def test_validation_reads_the_account_number_in_any_case_with_spaces_or_dashes(
    client, typed
):
    # given
    booking = BookingFactory()
    ref = booking.reference
    account = typed.format(
        r=ref,
        lower=ref.lower(),
        dashed=f"{ref[:2]}-{ref[2:5]}-{ref[5:]}",
        spaced=f"{ref[:4]} {ref[4:]}",
    )
    # when
    response = validate(client, c2b_request(account=account, amount=3000))
    # then
    assert response.json() == ACCEPTED


@pytest.mark.parametrize("account", ["HakiYetu", "", "HYZZZZZZ", "HY0OOOOO"])
def test_validation_rejects_an_unknown_account_number_with_c2b00012(client, account):
    # given
    BookingFactory()
    # when
    response = validate(client, c2b_request(account=account))
    # then
    assert response.status_code == 200
    assert response.json() == {
        "ResultCode": "C2B00012",
        "ResultDesc": "Rejected: unknown account number",
    }


@pytest.mark.parametrize(
    "traits",
    # A lapsed hold whose slot is still free is accepted (its money would
    # pay it): test_c2b_amounts_and_holds.py.
    [{"confirmed": True}, {"cancelled": True}, {"completed": True}],
)
def test_validation_rejects_a_booking_not_awaiting_payment_with_c2b00012(
    client, traits
):
    # given
    booking = BookingFactory(**traits)
    # when
    response = validate(client, c2b_request(account=booking.reference))
    # then
    assert response.json() == {
        "ResultCode": "C2B00012",
        "ResultDesc": "Rejected: this booking is not awaiting payment",
    }


@pytest.mark.parametrize("amount", ["2999.00", "3001", "3000.50", 1])
def test_validation_rejects_another_amount_with_c2b00013_naming_what_is_owed(
    client, amount
):
    # given
    booking = BookingFactory(amount=3000)
    # when
    response = validate(client, c2b_request(account=booking.reference, amount=amount))
    # then
    assert response.json() == {
        "ResultCode": "C2B00013",
        "ResultDesc": "Rejected: wrong amount, KES 3,000 is owed",
    }


@pytest.mark.parametrize(
    "body", [b"{not json", b"[]", as_bytes({"TransID": "", "TransAmount": "1"})]
)
def test_validation_stores_and_rejects_a_malformed_body_with_c2b00016(client, body):
    # when
    response = validate(client, body)
    # then
    assert response.status_code == 200
    assert response.json()["ResultCode"] == "C2B00016"
    assert response.json()["ResultDesc"].startswith("Rejected")
    event = PaymentEvent.objects.get(kind=PaymentEvent.Kind.C2B_VALIDATION)
    assert event.raw_body == body.decode()
    assert event.error.startswith("malformed: ")


def test_validation_off_accepts_every_request(client, settings):
    # given
    settings.MPESA_C2B_VALIDATE = False
    # when
    response = validate(client, c2b_request(account="nobody", amount="1.50"))
    # then
    assert response.json() == ACCEPTED


def test_validation_stores_the_request_raw_and_writes_nothing_else(client):
    # given
    booking = BookingFactory()
    body = as_bytes(c2b_request(account=booking.reference))
    # when
    validate(client, body)
    # then
    event = PaymentEvent.objects.get()
    assert event.kind == PaymentEvent.Kind.C2B_VALIDATION
    assert event.raw_body == body.decode()
    assert event.request_body["TransID"] == "TLK1234XYZ"
    assert event.source_ip == "127.0.0.1"
    assert event.headers["Content-Type"] == "application/json"
    assert event.payment_id is None
    assert not MpesaReceipt.objects.exists()
    booking.refresh_from_db()
    assert booking.status == "pending_payment"


def test_validation_with_a_wrong_secret_is_a_json_404_and_stores_nothing(client):
    # when
    response = validate(client, c2b_request(account="x"), secret="wrong")
    # then
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not PaymentEvent.objects.exists()


def test_validation_uses_the_c2b_secret_not_the_callback_secret(client, settings):
    # when
    response = validate(
        client, c2b_request(account="x"), secret=settings.MPESA_CALLBACK_SECRET
    )
    # then
    assert response.status_code == 404


def test_validation_from_outside_the_allowlist_is_refused(client, settings):
    # given
    settings.MPESA_CALLBACK_ALLOWED_IPS = ["196.201.214.200"]
    # when
    response = validate(client, c2b_request(account="x"))
    # then
    assert response.status_code == 403
    assert not PaymentEvent.objects.exists()


def test_validation_of_a_body_over_64_kib_is_413(client):
    # when
    response = validate(client, b"{" + b" " * (64 * 1024) + b"}")
    # then
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


@pytest.mark.django_db(transaction=True)
def test_validation_while_the_database_is_down_is_503_so_response_type_applies(
    client,
):
    # given: nothing can be stored, so nothing is decided
    body = as_bytes(c2b_request(account="HYABCDEF"))
    # when
    with database_unreachable():
        response = validate(client, body)
    # then: not a 200, so Safaricom applies the registered ResponseType
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
