"""Review defect 3: the C2B copy of money an STK Query completed (no receipt,
"receipt pending") gives that payment its receipt; the money is counted once.
Anything ambiguous stays unallocated ``duplicate_payment`` for staff."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from core.time import NAIROBI
from payments.models import MpesaReceipt, Payment, PaymentEvent
from payments.selectors import payments_receipt_pending
from payments.services.reconciliation import payment_query
from payments.tests.conftest import c2b_url, callback_url
from payments.tests.factories import PaymentFactory
from payments.tests.fakes import FakeDarajaClient, query_answer
from payments.tests.payloads import as_bytes, c2b_request, success_callback

pytestmark = pytest.mark.django_db
RECEIPT = "TLK7RT61SV"
Reason = MpesaReceipt.UnallocatedReason


def trans_time(moment: datetime) -> str:
    return timezone.localtime(moment, NAIROBI).strftime("%Y%m%d%H%M%S")


def query_completed_payment(**fields) -> Payment:
    payment = PaymentFactory(**fields)
    payment_query(
        payment_id=payment.pk, client=FakeDarajaClient(query_result=query_answer("0"))
    )
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED
    assert payment.mpesa_receipt_number is None
    return payment


def confirm(client, payment, **overrides):
    fields = {
        "account": payment.booking.reference,
        "trans_id": RECEIPT,
        "amount": f"{payment.amount}.00",
        "trans_time": trans_time(payment.accepted_at + timedelta(seconds=20)),
        **overrides,
    }
    body = c2b_request(**fields)
    return client.generic(
        "POST", c2b_url("confirmation"), as_bytes(body), content_type="application/json"
    )


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_c2b_copy_gives_the_query_completed_payment_its_receipt(client, version):
    # given
    payment = query_completed_payment()
    # when
    response = confirm(client, payment, version=version)
    # then: the receipt is that payment's, counted once
    assert response.status_code == 200
    payment.refresh_from_db()
    assert (payment.status, payment.mpesa_receipt_number) == ("completed", RECEIPT)
    receipt = MpesaReceipt.objects.get()
    assert (receipt.allocation, receipt.unallocated_reason) == ("allocated", "")
    assert (receipt.payment_id, receipt.booking_id) == (payment.pk, payment.booking_id)
    assert receipt.amount == payment.amount
    assert payments_receipt_pending().exists() is False


def test_c2b_copy_sighting_links_to_its_stored_confirmation_event(client):
    # given
    payment = query_completed_payment()
    # when
    confirm(client, payment)
    # then
    receipt = MpesaReceipt.objects.get()
    assert receipt.payment_id == payment.pk
    sighting = receipt.sightings.get()
    assert sighting.source == "c2b_confirmation"
    assert sighting.event.kind == PaymentEvent.Kind.C2B_CONFIRMATION
    assert sighting.event.request_body["TransID"] == RECEIPT


def test_c2b_copy_then_the_late_stk_callback_is_one_receipt(client):
    # given
    payment = query_completed_payment()
    confirm(client, payment)
    # when: the STK callback with the same receipt comes late
    body = success_callback(payment.checkout_request_id, receipt=RECEIPT, amount=3000)
    client.generic(
        "POST", callback_url(), as_bytes(body), content_type="application/json"
    )
    # then
    payment.refresh_from_db()
    assert (payment.status, payment.review_code) == ("completed", "")
    receipt = MpesaReceipt.objects.get()
    assert receipt.payment_id == payment.pk
    assert sorted(receipt.sightings.values_list("source", flat=True)) == [
        "c2b_confirmation",
        "stk_callback",
    ]


def _stays_duplicate(payment):
    receipt = MpesaReceipt.objects.get()
    assert (receipt.allocation, receipt.unallocated_reason) == (
        "unallocated",
        Reason.DUPLICATE_PAYMENT,
    )
    assert receipt.payment_id is None
    payment.refresh_from_db()
    assert payment.mpesa_receipt_number is None
    assert list(payments_receipt_pending()) == [payment]


def test_c2b_of_another_amount_stays_duplicate_payment(client):
    # given
    payment = query_completed_payment()
    # when
    confirm(client, payment, amount="2000.00")
    # then
    _stays_duplicate(payment)


def test_c2b_from_another_phone_stays_duplicate_payment(client):
    # given
    payment = query_completed_payment()
    # when
    confirm(client, payment, phone="254711222333")
    # then
    _stays_duplicate(payment)


def test_c2b_made_long_after_the_payments_prompt_stays_duplicate_payment(client):
    # given
    payment = query_completed_payment()
    # when: paid an hour after the prompt opened: other money
    confirm(
        client, payment, trans_time=trans_time(payment.accepted_at + timedelta(hours=1))
    )
    # then
    _stays_duplicate(payment)


def test_c2b_for_a_booking_with_two_receipt_pending_payments_stays_duplicate(client):
    # given: two completed payments without a receipt (which is whose?)
    payment = query_completed_payment()
    PaymentFactory(
        booking=payment.booking,
        status=Payment.Status.COMPLETED,
        checkout_request_id="ws_CO_SECOND000001",
    )
    # when
    confirm(client, payment)
    # then
    receipt = MpesaReceipt.objects.get()
    assert receipt.unallocated_reason == Reason.DUPLICATE_PAYMENT
    assert receipt.payment_id is None
    assert payments_receipt_pending().count() == 2


def test_c2b_for_a_booking_whose_payment_has_its_receipt_stays_duplicate(client):
    # given: the booking's payment already has its own receipt
    payment = PaymentFactory(completed=True, booking__confirmed=True)
    # when
    confirm(client, payment)
    # then: another payment of the same booking (money twice): for staff
    receipt = MpesaReceipt.objects.get()
    assert receipt.unallocated_reason == Reason.DUPLICATE_PAYMENT
    payment.refresh_from_db()
    assert payment.mpesa_receipt_number != RECEIPT
