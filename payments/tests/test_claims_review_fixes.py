"""Review findings on the claim paths (issue 13 review): staff completion
sees Paybill money, money marked for refund is never taken by an STK
success."""

import pytest

from bookings.tests.factories import UserFactory
from payments.exceptions import InvalidPaymentTransition
from payments.models import MpesaReceipt, Payment
from payments.services.ledger_staff import receipt_mark_for_refund
from payments.services.staff import payment_resolve_manually
from payments.tests.conftest import c2b_url, callback_url
from payments.tests.factories import PaymentFactory
from payments.tests.ledger_support import paybill_receipt
from payments.tests.payloads import as_bytes, c2b_request, success_callback

pytestmark = pytest.mark.django_db
Status = Payment.Status


def _post(client, url, body):
    return client.generic("POST", url, as_bytes(body), content_type="application/json")


def test_staff_completion_is_refused_when_paybill_money_paid_the_booking(client):
    # given: Paybill R1 pays the booking, then P's own STK money R2 arrives
    payment = PaymentFactory()
    _post(
        client,
        c2b_url("confirmation"),
        c2b_request(
            account=payment.booking.reference,
            trans_id="PAYBILL001",
            amount=f"{payment.amount}.00",
        ),
    )
    _post(
        client,
        callback_url(),
        success_callback(
            payment.checkout_request_id, receipt="STKSECOND1", amount=payment.amount
        ),
    )
    payment.refresh_from_db()
    assert payment.review_code == "booking_already_paid"
    # when
    with pytest.raises(InvalidPaymentTransition):
        payment_resolve_manually(
            payment_id=payment.pk,
            to=Status.COMPLETED,
            note="client says paid",
            actor=UserFactory(staff=True),
            mpesa_receipt_number="STKSECOND1",
        )
    # then
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW


def test_stk_success_never_takes_money_marked_for_refund(client):
    # given: unclaimed Paybill money of P's amount, marked for refund
    payment = PaymentFactory()
    receipt = paybill_receipt("NLJ7RT61SV", amount=payment.amount, account="HYWRONG22")
    receipt_mark_for_refund(
        receipt_id=receipt.pk, actor=UserFactory(staff=True), note="client asked"
    )
    # when
    _post(
        client,
        callback_url(),
        success_callback(
            payment.checkout_request_id, receipt="NLJ7RT61SV", amount=payment.amount
        ),
    )
    # then
    receipt.refresh_from_db()
    payment.refresh_from_db()
    payment.booking.refresh_from_db()
    assert receipt.allocation == MpesaReceipt.Allocation.UNALLOCATED
    assert receipt.payment_id is None
    assert receipt.booking_id is None
    assert payment.status == Status.NEEDS_REVIEW
    assert payment.booking.payment_status != "paid"
