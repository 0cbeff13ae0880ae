"""Issue 13, points 5 and 7: a C2B confirmation records its money once and
pays the booking its account number names when the amount is owed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import Booking
from bookings.tests.factories import BookingFactory
from core.tests.outage import database_unreachable
from payments.models import MpesaReceipt, MpesaReceiptSighting, Payment, PaymentEvent
from payments.services import spool
from payments.services.callbacks import payment_replay_spooled_callbacks
from payments.services.transitions import payment_accept_push
from payments.tests.conftest import c2b_url
from payments.tests.factories import PaymentFactory
from payments.tests.payloads import as_bytes, c2b_request

pytestmark = pytest.mark.django_db
Allocation = MpesaReceipt.Allocation
Reason = MpesaReceipt.UnallocatedReason
ACK = {"ResultCode": 0, "ResultDesc": "Accepted"}


def confirm(client, body, secret=None):
    url = c2b_url("confirmation") if secret is None else c2b_url("confirmation", secret)
    payload = body if isinstance(body, bytes) else as_bytes(body)
    return client.generic("POST", url, payload, content_type="application/json")


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_confirmation_pays_the_booking_its_account_number_names(client, version):
    # given
    booking = BookingFactory(amount=3000)
    body = c2b_request(account=booking.reference.lower(), version=version)
    # when
    response = confirm(client, body)
    # then
    assert response.status_code == 200
    assert response.json() == ACK
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == ("confirmed", "paid")
    receipt = MpesaReceipt.objects.get()
    assert receipt.receipt_number == "TLK1234XYZ"
    assert (receipt.channel, receipt.amount) == ("paybill", 3000)
    assert (receipt.allocation, receipt.unallocated_reason) == ("allocated", "")
    assert (receipt.booking_id, receipt.payment_id) == (booking.pk, None)
    assert receipt.account_reference == booking.reference.lower()
    assert receipt.payer_phone == body["MSISDN"]
    assert receipt.payer_name == "John Doe"
    assert timezone.localtime(receipt.transacted_at).strftime("%Y%m%d%H%M%S") == (
        "20261202101530"
    )
    sighting = receipt.sightings.get()
    assert sighting.source == MpesaReceiptSighting.Source.C2B_CONFIRMATION
    assert sighting.event == PaymentEvent.objects.get(kind="c2b_confirmation")


def test_confirmation_is_stored_raw_before_anything_else(client):
    # given
    body = as_bytes(c2b_request(account="HakiYetu", amount=3000))
    # when
    confirm(client, body)
    # then
    event = PaymentEvent.objects.get(kind=PaymentEvent.Kind.C2B_CONFIRMATION)
    assert event.raw_body == body.decode()
    assert event.request_body["TransAmount"] == 3000
    assert event.source_ip == "127.0.0.1"
    assert event.payment_id is None
    assert "TLK1234XYZ" in event.reason


def test_confirmation_closes_the_bookings_open_stk_payment(client):
    # given: the client was prompted, then paid by Paybill instead
    payment = PaymentFactory()
    # when
    confirm(client, c2b_request(account=payment.booking.reference))
    # then
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    assert payment.failure_reason == "paid by Paybill, receipt TLK1234XYZ"
    change = PaymentEvent.objects.get(payment=payment, to_status="failed")
    assert change.reason == "paid by Paybill, receipt TLK1234XYZ"
    receipt = MpesaReceipt.objects.get()
    assert (receipt.allocation, receipt.payment_id) == ("allocated", None)
    assert Booking.objects.get(pk=payment.booking_id).payment_status == "paid"


@pytest.mark.parametrize(
    ("account", "amount", "reason"),
    [
        ("HakiYetu", "3000.00", Reason.UNKNOWN_ACCOUNT),
        ("{ref}", "2999.00", Reason.UNDERPAID),
        ("{ref}", "3500.00", Reason.OVERPAID),
    ],
)
def test_confirmation_that_does_not_add_up_stays_unallocated_with_its_reason(
    client, account, amount, reason
):
    # given
    booking = BookingFactory(amount=3000)
    open_payment = PaymentFactory(booking=booking)
    body = c2b_request(account=account.format(ref=booking.reference), amount=amount)
    # when
    response = confirm(client, body)
    # then
    assert response.json() == ACK
    receipt = MpesaReceipt.objects.get()
    assert (receipt.allocation, receipt.unallocated_reason) == ("unallocated", reason)
    assert receipt.amount == int(float(amount))
    assert receipt.booking_id is None
    booking.refresh_from_db()
    assert booking.payment_status == "unpaid"
    open_payment.refresh_from_db()
    assert open_payment.status == Payment.Status.PENDING


def test_confirmation_for_a_paid_booking_is_unallocated_duplicate_payment(client):
    # given
    booking = BookingFactory(confirmed=True)
    # when
    confirm(client, c2b_request(account=booking.reference))
    # then
    receipt = MpesaReceipt.objects.get()
    assert receipt.unallocated_reason == Reason.DUPLICATE_PAYMENT


@pytest.mark.parametrize("traits", [{"cancelled": True}, {"completed": True}])
def test_confirmation_for_a_booking_not_payable_is_unallocated(client, traits):
    # given
    booking = BookingFactory(**traits)
    before = (booking.status, booking.payment_status)
    # when
    confirm(client, c2b_request(account=booking.reference))
    # then
    receipt = MpesaReceipt.objects.get()
    reason = (
        Reason.DUPLICATE_PAYMENT
        if booking.payment_status == "paid"
        else Reason.BOOKING_NOT_PAYABLE
    )
    assert receipt.unallocated_reason == reason
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == before


def test_booking_expired_between_validation_and_confirmation_slot_gone(
    client, settings
):
    # given: validation accepted it; then the hold ran out, the booking
    # expired and someone else booked the slot
    settings.MPESA_C2B_VALIDATE = True
    booking = BookingFactory()
    body = c2b_request(account=booking.reference)
    answer = client.generic(
        "POST", c2b_url("validation"), as_bytes(body), content_type="application/json"
    )
    assert answer.json()["ResultCode"] == "0"
    Booking.objects.filter(pk=booking.pk).update(
        status="expired", expires_at=timezone.now() - timedelta(minutes=1)
    )
    BookingFactory(advocate=booking.advocate, start=booking.start)
    # when
    response = confirm(client, body)
    # then
    assert response.json() == ACK
    receipt = MpesaReceipt.objects.get()
    assert receipt.unallocated_reason == Reason.BOOKING_NOT_PAYABLE
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == ("expired", "refund_due")
    # The money is that booking's, to refund: one place says so, not two.
    assert (receipt.allocation, receipt.booking_id) == ("unallocated", booking.pk)


def test_booking_expired_between_validation_and_confirmation_slot_free(client):
    # given: the hold ran out but nobody took the slot
    booking = BookingFactory(expired=True)
    # when
    confirm(client, c2b_request(account=booking.reference))
    # then: a late payment confirms it, as an STK one would
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == ("confirmed", "paid")
    assert MpesaReceipt.objects.get().allocation == Allocation.ALLOCATED


def test_second_confirmation_with_the_same_trans_id_is_one_more_sighting(client):
    # given
    booking = BookingFactory()
    body = c2b_request(account=booking.reference)
    confirm(client, body)
    # when
    response = confirm(client, body)
    # then
    assert response.json() == ACK
    receipt = MpesaReceipt.objects.get()
    assert receipt.allocation == Allocation.ALLOCATED
    assert receipt.sightings.count() == 2
    assert PaymentEvent.objects.filter(kind="c2b_confirmation").count() == 2
    booking.refresh_from_db()
    assert booking.payment_status == "paid"


def test_repeated_unallocated_confirmation_stays_one_row(client):
    # given
    body = c2b_request(account="HakiYetu")
    confirm(client, body)
    # when
    confirm(client, body)
    # then
    receipt = MpesaReceipt.objects.get()
    assert receipt.unallocated_reason == Reason.UNKNOWN_ACCOUNT
    assert receipt.sightings.count() == 2


def test_confirmation_with_a_fraction_of_a_shilling_is_kept_raw_not_counted(client):
    # given
    booking = BookingFactory(amount=3000)
    # when
    response = confirm(client, c2b_request(account=booking.reference, amount="3000.50"))
    # then
    assert response.json() == ACK
    assert not MpesaReceipt.objects.exists()
    note = PaymentEvent.objects.get(kind=PaymentEvent.Kind.NOTE)
    assert "not whole shillings" in note.reason
    booking.refresh_from_db()
    assert booking.payment_status == "unpaid"


@pytest.mark.parametrize("body", [b"nope", as_bytes({"TransAmount": "10"})])
def test_malformed_confirmation_is_stored_and_answered_400(client, body):
    # when
    response = confirm(client, body)
    # then
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_c2b_request"
    event = PaymentEvent.objects.get(kind=PaymentEvent.Kind.C2B_CONFIRMATION)
    assert event.raw_body == body.decode()
    assert event.error.startswith("malformed: ")


def test_confirmation_with_a_wrong_secret_is_404(client):
    # when
    response = confirm(client, c2b_request(account="x"), secret="wrong")
    # then
    assert response.status_code == 404
    assert not PaymentEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_confirmation_while_the_database_is_down_is_spooled_then_replayed(
    client, settings, tmp_path
):
    # given
    settings.CALLBACK_SPOOL_DIR = str(tmp_path)
    booking = BookingFactory()
    body = as_bytes(c2b_request(account=booking.reference))
    # when: the database cannot be reached
    with database_unreachable():
        response = confirm(client, body)
    # then: Safaricom has its acknowledgement, the disk has the request
    assert response.json() == ACK
    assert spool.spool_count() == 1
    assert not PaymentEvent.objects.exists()
    # when the database is back
    replay = payment_replay_spooled_callbacks()
    # then: replayed as a confirmation, byte for byte
    assert (replay.replayed, replay.left) == (1, 0)
    event = PaymentEvent.objects.get(kind="c2b_confirmation")
    assert event.raw_body == body.decode()
    booking.refresh_from_db()
    assert booking.payment_status == "paid"


def test_confirmation_that_fails_to_apply_is_still_acknowledged_and_noted(
    client, monkeypatch
):
    # given: a fault while applying, after the request was stored
    def broken(**kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr("payments.services.c2b.c2b_apply_confirmation", broken)
    # when
    response = confirm(client, c2b_request(account="HakiYetu"))
    # then
    assert response.json() == ACK
    assert PaymentEvent.objects.filter(kind="c2b_confirmation").count() == 1
    note = PaymentEvent.objects.get(kind=PaymentEvent.Kind.NOTE)
    assert "TLK1234XYZ" in note.reason
    assert "RuntimeError: bug" in note.error


def test_push_answer_after_paybill_closed_its_payment_keeps_it_failed_with_its_ids(
    client,
):
    # given: a push in flight (initiated) when the Paybill money paid the booking
    payment = PaymentFactory(initiated=True)
    confirm(client, c2b_request(account=payment.booking.reference))
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    # when: Daraja's answer to the push arrives
    change = payment_accept_push(
        payment_id=payment.pk,
        merchant_request_id="29115-1-1",
        checkout_request_id="ws_CO_LATEANSWER01",
        accepted_at=timezone.now(),
    )
    # then: still failed, and it knows its ids so the prompt's callback finds it
    payment.refresh_from_db()
    assert (change.payment.status, payment.status) == ("failed", "failed")
    assert payment.checkout_request_id == "ws_CO_LATEANSWER01"
    assert PaymentEvent.objects.filter(
        payment=payment, kind="note", reason__contains="after the payment became"
    ).exists()


def test_late_stk_callback_of_money_naming_its_refund_due_booking_is_a_refund(
    client,
):
    # given: the booking's prompt expired, the booking too, its slot taken;
    # then the prompt's money came as a C2B confirmation first
    from payments.tests.conftest import callback_url
    from payments.tests.payloads import success_callback

    payment = PaymentFactory(status=Payment.Status.EXPIRED)
    booking = payment.booking
    Booking.objects.filter(pk=booking.pk).update(
        status="expired", expires_at=timezone.now() - timedelta(minutes=1)
    )
    BookingFactory(advocate=booking.advocate, start=booking.start)
    confirm(client, c2b_request(account=booking.reference, trans_id="TLK9ZZ11AA"))
    # when: the STK callback reports the same receipt
    body = success_callback(
        payment.checkout_request_id, receipt="TLK9ZZ11AA", amount=payment.amount
    )
    client.generic(
        "POST", callback_url(), as_bytes(body), content_type="application/json"
    )
    # then: one receipt, to refund from that booking; not "on another payment"
    payment.refresh_from_db()
    assert payment.review_code == Payment.ReviewCode.BOOKING_REFUND_DUE
    receipt = MpesaReceipt.objects.get()
    assert (receipt.allocation, receipt.booking_id) == ("unallocated", booking.pk)
    assert receipt.sightings.count() == 2
