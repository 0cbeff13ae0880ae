"""Review defect 6: an STK Query success for a payment its own Paybill copy
closed ("paid by Paybill, receipt X") is probably the same money: a review
naming X (``paid_by_paybill_copy``), not a refund; staff may complete the
payment with X, which links the receipt to it."""

import pytest

from bookings.models import Booking
from bookings.tests.factories import UserFactory
from payments.exceptions import InvalidPaymentInput, InvalidPaymentTransition
from payments.models import MpesaReceipt, Payment, PaymentEvent
from payments.services.reconciliation import payment_query
from payments.services.staff import payment_resolve_manually
from payments.tests.conftest import c2b_url
from payments.tests.factories import PaymentFactory
from payments.tests.fakes import FakeDarajaClient, query_answer
from payments.tests.payloads import as_bytes, c2b_request

pytestmark = pytest.mark.django_db
Status = Payment.Status
RECEIPT = "TLK5PB77QX"


def paybill_pays(client, payment, receipt=RECEIPT):
    body = c2b_request(
        account=payment.booking.reference, trans_id=receipt, amount="3000.00"
    )
    client.generic(
        "POST", c2b_url("confirmation"), as_bytes(body), content_type="application/json"
    )


def query_says_paid(payment):
    payment_query(
        payment_id=payment.pk, client=FakeDarajaClient(query_result=query_answer("0"))
    )
    payment.refresh_from_db()


def closed_by_its_paybill_copy_then_queried(client) -> Payment:
    payment = PaymentFactory()
    paybill_pays(client, payment)
    payment.refresh_from_db()
    assert payment.failure_reason == f"paid by Paybill, receipt {RECEIPT}"
    query_says_paid(payment)
    return payment


def test_query_success_after_its_paybill_copy_closed_it_is_a_copy_review(client):
    # when
    payment = closed_by_its_paybill_copy_then_queried(client)
    # then
    assert payment.status == Status.NEEDS_REVIEW
    assert payment.review_code == "paid_by_paybill_copy"
    reason = PaymentEvent.objects.filter(payment=payment, to_status="needs_review")
    text = reason.get().reason
    assert RECEIPT in text
    assert "same money" in text
    assert "refund" not in text


def test_query_success_after_its_paybill_copy_leaves_the_booking_paid(client):
    # when
    payment = closed_by_its_paybill_copy_then_queried(client)
    # then: no refund is due: the money was paid once
    booking = Booking.objects.get(pk=payment.booking_id)
    assert (booking.status, booking.payment_status) == ("confirmed", "paid")
    receipt = MpesaReceipt.objects.get()
    assert (receipt.allocation, receipt.booking_id) == ("allocated", booking.pk)
    assert receipt.payment_id is None


def test_staff_complete_a_paybill_copy_with_its_receipt_linking_it(client):
    # given
    payment = closed_by_its_paybill_copy_then_queried(client)
    staff = UserFactory(staff=True)
    # when
    payment_resolve_manually(
        payment_id=payment.pk,
        to=Status.COMPLETED,
        note="same money: M-Pesa statement shows one payment",
        actor=staff,
        mpesa_receipt_number=RECEIPT.lower(),
    )
    # then: the payment is that money; the booking paid once
    payment.refresh_from_db()
    assert (payment.status, payment.mpesa_receipt_number) == ("completed", RECEIPT)
    receipt = MpesaReceipt.objects.get()
    assert (receipt.allocation, receipt.payment_id) == ("allocated", payment.pk)
    assert receipt.booking_id == payment.booking_id
    assert receipt.sightings.filter(source="staff").count() == 1
    booking = Booking.objects.get(pk=payment.booking_id)
    assert booking.payment_status == "paid"


def test_staff_complete_a_paybill_copy_with_another_receipt_is_refused(client):
    # given
    payment = closed_by_its_paybill_copy_then_queried(client)
    # when
    with pytest.raises((InvalidPaymentTransition, InvalidPaymentInput)):
        payment_resolve_manually(
            payment_id=payment.pk,
            to=Status.COMPLETED,
            note="client says paid",
            actor=UserFactory(staff=True),
            mpesa_receipt_number="OTHER12345",
        )
    # then
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW
    assert MpesaReceipt.objects.get().payment_id is None


def test_query_success_of_a_payment_paybill_did_not_close_is_already_paid(client):
    # given: the prompt was cancelled, then the booking was paid by Paybill
    payment = PaymentFactory(failed=True)
    paybill_pays(client, payment)
    # when: a query says the cancelled prompt was paid after all
    query_says_paid(payment)
    # then: that is other money: the booking was paid twice
    assert payment.review_code == "booking_already_paid"
