"""Review lesser findings on C2B: a zero amount is refused and never a
ledger row; a repeated receipt with another amount is flagged; validation
and confirmation agree on a booking whose hold ran out (money already sent
pays a booking whose slot is still free)."""

import pytest

from bookings.models import Booking
from bookings.tests.factories import BookingFactory
from payments.models import MpesaReceipt, PaymentEvent
from payments.tests.conftest import c2b_url
from payments.tests.payloads import as_bytes, c2b_request

pytestmark = pytest.mark.django_db
ACCEPTED = {"ResultCode": "0", "ResultDesc": "Accepted"}


def post(client, endpoint, body):
    return client.generic(
        "POST", c2b_url(endpoint), as_bytes(body), content_type="application/json"
    )


@pytest.mark.parametrize("validate", [True, False])
@pytest.mark.parametrize("amount", ["0", "0.00", 0, "0.50"])
def test_validation_refuses_an_amount_below_one_shilling_with_c2b00013(
    client, settings, validate, amount
):
    # given
    settings.MPESA_C2B_VALIDATE = validate
    booking = BookingFactory()
    # when
    response = post(
        client, "validation", c2b_request(account=booking.reference, amount=amount)
    )
    # then
    assert response.json()["ResultCode"] == "C2B00013"


def test_validation_refuses_a_negative_amount(client, settings):
    # given
    settings.MPESA_C2B_VALIDATE = True
    booking = BookingFactory()
    # when
    response = post(
        client, "validation", c2b_request(account=booking.reference, amount="-3000")
    )
    # then: not a payment (a sign is not a TransAmount Daraja writes)
    assert response.json()["ResultCode"] != "0"


def test_confirmation_of_zero_is_stored_and_noted_never_a_receipt(client):
    # given
    booking = BookingFactory()
    # when
    response = post(
        client,
        "confirmation",
        c2b_request(account=booking.reference, trans_id="TLK0ZERO00", amount="0.00"),
    )
    # then
    assert response.status_code == 200
    assert MpesaReceipt.objects.exists() is False
    assert PaymentEvent.objects.filter(kind="c2b_confirmation").count() == 1
    note = PaymentEvent.objects.get(kind="note")
    assert "TLK0ZERO00" in note.reason
    assert "0" in note.reason
    booking.refresh_from_db()
    assert booking.payment_status == "unpaid"


def test_repeated_receipt_with_another_amount_is_a_sighting_and_a_warning(
    client, caplog
):
    # given
    booking = BookingFactory()
    post(
        client,
        "confirmation",
        c2b_request(account=booking.reference, trans_id="TLK1AMT000"),
    )
    # when: the same TransID again, with another amount
    post(
        client,
        "confirmation",
        c2b_request(account=booking.reference, trans_id="TLK1AMT000", amount="5000.00"),
    )
    # then: the amount on record is kept; staff are told
    receipt = MpesaReceipt.objects.get()
    assert receipt.amount == 3000
    assert receipt.sightings.count() == 2
    note = PaymentEvent.objects.get(kind="note")
    assert "TLK1AMT000" in note.reason
    assert "KES 5,000" in note.reason
    assert "KES 3,000" in note.reason
    assert any(
        r.levelname == "WARNING" and "TLK1AMT000" in r.getMessage()
        for r in caplog.records
    )


def test_repeated_receipt_with_the_same_amount_writes_no_warning(client):
    # given
    booking = BookingFactory()
    body = c2b_request(account=booking.reference, trans_id="TLK1AMT001")
    post(client, "confirmation", body)
    # when
    post(client, "confirmation", body)
    # then
    assert PaymentEvent.objects.filter(kind="note").exists() is False


@pytest.fixture
def validate_on(settings):
    settings.MPESA_C2B_VALIDATE = True


@pytest.mark.usefixtures("validate_on")
def test_validation_accepts_a_pending_booking_whose_hold_ran_out(client):
    # given: its hold ran out, nobody took the slot
    booking = BookingFactory(stale_hold=True)
    body = c2b_request(account=booking.reference)
    # when
    answer = post(client, "validation", body)
    post(client, "confirmation", body)
    # then: validation and confirmation agree: the money pays it
    assert answer.json() == ACCEPTED
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == ("confirmed", "paid")


@pytest.mark.usefixtures("validate_on")
def test_validation_accepts_an_expired_booking_whose_slot_is_free(client):
    # given
    booking = BookingFactory(expired=True)
    body = c2b_request(account=booking.reference)
    # when
    answer = post(client, "validation", body)
    post(client, "confirmation", body)
    # then
    assert answer.json() == ACCEPTED
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == ("confirmed", "paid")


@pytest.mark.usefixtures("validate_on")
def test_validation_refuses_an_expired_booking_whose_slot_is_taken(client):
    # given: someone else holds the slot now
    booking = BookingFactory(expired=True)
    BookingFactory(advocate=booking.advocate, start=booking.start, confirmed=True)
    # when
    answer = post(client, "validation", c2b_request(account=booking.reference))
    # then
    assert answer.json() == {
        "ResultCode": "C2B00012",
        "ResultDesc": "Rejected: this booking is not awaiting payment",
    }
    assert Booking.objects.get(pk=booking.pk).status == booking.status


@pytest.mark.usefixtures("validate_on")
def test_validation_refuses_a_lapsed_booking_whose_slot_has_passed(client):
    # given: an expired booking for a time already gone
    from datetime import timedelta

    from django.utils import timezone

    start = timezone.now() - timedelta(hours=1)
    booking = BookingFactory(expired=True, start=start)
    # when
    answer = post(client, "validation", c2b_request(account=booking.reference))
    # then
    assert answer.json()["ResultCode"] == "C2B00012"
