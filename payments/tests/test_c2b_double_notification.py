"""Issue 13, point 3 with C2B: one receipt reported by the STK callback and
by a C2B confirmation (a double notification), in both orders, is one row
with two sightings, and the booking is paid once."""

import pytest
from django.utils import timezone

from bookings.models import Booking
from payments.models import MpesaReceipt, Payment, PaymentEvent
from payments.services.reconciliation import payment_query
from payments.tests.conftest import c2b_url, callback_url
from payments.tests.factories import PaymentFactory
from payments.tests.fakes import FakeDarajaClient, query_answer
from payments.tests.payloads import as_bytes, c2b_request, success_callback

pytestmark = pytest.mark.django_db
RECEIPT = "NLJ7RT61SV"


def stk_callback(client, payment, *, receipt=RECEIPT, amount=3000):
    body = success_callback(payment.checkout_request_id, receipt=receipt, amount=amount)
    return client.generic(
        "POST", callback_url(), as_bytes(body), content_type="application/json"
    )


def c2b_confirmation(
    client, *, account, receipt=RECEIPT, amount="3000.00", trans_time=None
):
    extra = {"trans_time": trans_time} if trans_time else {}
    body = c2b_request(account=account, trans_id=receipt, amount=amount, **extra)
    return client.generic(
        "POST",
        c2b_url("confirmation"),
        as_bytes(body),
        content_type="application/json",
    )


def completions(payment):
    return PaymentEvent.objects.filter(payment=payment, to_status="completed").count()


def sources(receipt):
    return sorted(receipt.sightings.values_list("source", flat=True))


def test_stk_callback_first_then_c2b_adds_a_sighting_and_nothing_else(client):
    # given
    payment = PaymentFactory()
    stk_callback(client, payment)
    # when
    response = c2b_confirmation(client, account=payment.booking.reference)
    # then
    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED
    assert completions(payment) == 1
    receipt = MpesaReceipt.objects.get()
    assert (receipt.channel, receipt.allocation) == ("stk", "allocated")
    assert (receipt.payment_id, receipt.booking_id) == (payment.pk, payment.booking_id)
    assert sources(receipt) == ["c2b_confirmation", "stk_callback"]


def test_c2b_first_paying_the_booking_then_stk_callback_is_the_same_money(client):
    # given: the confirmation paid the booking and closed the open payment
    payment = PaymentFactory()
    c2b_confirmation(client, account=payment.booking.reference)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    # when: the STK callback for the same receipt arrives
    response = stk_callback(client, payment)
    # then: the payment completes as that money, nothing is paid twice
    assert response.status_code == 200
    payment.refresh_from_db()
    assert (payment.status, payment.review_code) == (Payment.Status.COMPLETED, "")
    assert payment.mpesa_receipt_number == RECEIPT
    receipt = MpesaReceipt.objects.get()
    assert (receipt.allocation, receipt.channel) == ("allocated", "stk")
    assert (receipt.payment_id, receipt.booking_id) == (payment.pk, payment.booking_id)
    assert sources(receipt) == ["c2b_confirmation", "stk_callback"]
    booking = Booking.objects.get(pk=payment.booking_id)
    assert (booking.status, booking.payment_status) == ("confirmed", "paid")


def test_c2b_first_unallocated_then_stk_callback_allocates_it_to_the_payment(client):
    # given: a BillRefNumber that names no booking (an older SPA's "HakiYetu")
    payment = PaymentFactory()
    c2b_confirmation(client, account="HakiYetu")
    assert MpesaReceipt.objects.get().unallocated_reason == "unknown_account"
    # when
    stk_callback(client, payment)
    # then: the payment completes, the booking is paid once, the money is its
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED
    assert completions(payment) == 1
    receipt = MpesaReceipt.objects.get()
    assert (receipt.allocation, receipt.unallocated_reason) == ("allocated", "")
    assert (receipt.payment_id, receipt.booking_id) == (payment.pk, payment.booking_id)
    # The STK success proves how it was paid: the confirmation was its copy.
    assert receipt.channel == "stk"
    booking = Booking.objects.get(pk=payment.booking_id)
    assert booking.payment_status == "paid"


def test_c2b_first_then_stk_callback_of_another_amount_goes_to_review(client):
    # given
    payment = PaymentFactory()
    c2b_confirmation(client, account="HakiYetu", amount="2000.00")
    # when: the STK callback claims the receipt for the full amount
    stk_callback(client, payment)
    # then: the ledger's amount differs, so it is not this payment's money
    payment.refresh_from_db()
    assert payment.status == Payment.Status.NEEDS_REVIEW
    assert payment.review_code == Payment.ReviewCode.RECEIPT_DUPLICATE
    receipt = MpesaReceipt.objects.get()
    assert (receipt.allocation, receipt.payment_id) == ("unallocated", None)


def test_stk_callback_for_a_receipt_that_paid_another_booking_goes_to_review(client):
    # given: the receipt paid booking A by Paybill
    other = PaymentFactory()
    c2b_confirmation(client, account=other.booking.reference)
    payment = PaymentFactory(booking__start=other.booking.start.replace(hour=11))
    # when: a callback for booking B's payment reports the same receipt
    stk_callback(client, payment)
    # then: booking B is not paid with booking A's money
    payment.refresh_from_db()
    assert payment.status == Payment.Status.NEEDS_REVIEW
    assert payment.review_code == Payment.ReviewCode.RECEIPT_DUPLICATE
    assert Booking.objects.get(pk=payment.booking_id).payment_status == "unpaid"
    assert MpesaReceipt.objects.get().booking_id == other.booking_id


def test_query_completed_payment_takes_its_receipt_from_a_c2b_then_its_callback(
    client,
):
    # given: completed by a query (no receipt), then a confirmation of that
    # receipt dated outside its prompt's window (so not taken as its copy:
    # test_c2b_receipt_pending.py), unallocated as the booking was paid
    payment = PaymentFactory()
    payment_query(
        payment_id=payment.pk, client=FakeDarajaClient(query_result=query_answer("0"))
    )
    c2b_confirmation(
        client, account=payment.booking.reference, trans_time="20260101101530"
    )
    assert MpesaReceipt.objects.get().unallocated_reason == "duplicate_payment"
    # when: the late STK callback carries the receipt
    stk_callback(client, payment)
    # then: the receipt is this payment's money, not a second payment
    payment.refresh_from_db()
    assert (payment.status, payment.mpesa_receipt_number) == ("completed", RECEIPT)
    receipt = MpesaReceipt.objects.get()
    assert (receipt.allocation, receipt.payment_id) == ("allocated", payment.pk)


def test_unknown_stk_success_then_its_c2b_copy_pays_the_booking_it_names(client):
    # given: an STK success for a CheckoutRequestID we never learned, with no
    # push to match it to: unallocated unknown_payment
    booking = PaymentFactory(status=Payment.Status.FAILED).booking
    body = success_callback("ws_CO_NEVERLEARNED0002", receipt=RECEIPT, amount=3000)
    client.generic(
        "POST", callback_url(), as_bytes(body), content_type="application/json"
    )
    assert MpesaReceipt.objects.get().unallocated_reason == "unknown_payment"
    # when: its double notification names the booking, for what it owes
    response = c2b_confirmation(client, account=booking.reference)
    # then: the booking is paid by that money, counted once
    assert response.status_code == 200
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == ("confirmed", "paid")
    receipt = MpesaReceipt.objects.get()
    assert (receipt.allocation, receipt.unallocated_reason) == ("allocated", "")
    assert (receipt.booking_id, receipt.channel) == (booking.pk, "stk")
    assert sources(receipt) == ["c2b_confirmation", "stk_callback"]


def test_unknown_stk_success_and_a_c2b_copy_of_another_amount_stays_for_staff(
    client,
):
    # given
    booking = PaymentFactory(status=Payment.Status.FAILED).booking
    body = success_callback("ws_CO_NEVERLEARNED0003", receipt=RECEIPT, amount=3000)
    client.generic(
        "POST", callback_url(), as_bytes(body), content_type="application/json"
    )
    # when: a "copy" that disagrees on the amount
    c2b_confirmation(client, account=booking.reference, amount="2000.00")
    # then: one row, unchanged, and the booking is not paid by it
    booking.refresh_from_db()
    assert booking.payment_status == "unpaid"
    receipt = MpesaReceipt.objects.get()
    assert (receipt.allocation, receipt.unallocated_reason) == (
        "unallocated",
        "unknown_payment",
    )
    assert (receipt.amount, receipt.booking_id) == (3000, None)
    assert sources(receipt) == ["c2b_confirmation", "stk_callback"]


def test_c2b_copy_never_pays_a_booking_with_money_marked_for_refund(client):
    # given: an unknown STK success, marked for refund by staff
    booking = PaymentFactory(status=Payment.Status.FAILED).booking
    body = success_callback("ws_CO_NEVERLEARNED0004", receipt=RECEIPT, amount=3000)
    client.generic(
        "POST", callback_url(), as_bytes(body), content_type="application/json"
    )
    MpesaReceipt.objects.filter(receipt_number=RECEIPT).update(
        refund_marked_at=timezone.now()
    )
    # when: its C2B copy names the booking
    c2b_confirmation(client, account=booking.reference)
    # then: the booking is not paid with money that goes back
    booking.refresh_from_db()
    assert booking.payment_status == "unpaid"
    receipt = MpesaReceipt.objects.get()
    assert (receipt.allocation, receipt.booking_id) == ("unallocated", None)
