"""The statement's recovery of a lost callback racing the late callback
itself, on PostgreSQL where row locks are real: one completion, one
receipt, whichever wins."""

import pytest
from django.test import Client

from bookings.models import Booking
from bookings.tests.factories import UserFactory
from core.tests.concurrency import run_at_once
from payments.models import MpesaReceipt, Payment, PaymentEvent
from payments.tests.conftest import callback_url
from payments.tests.factories import PaymentFactory
from payments.tests.payloads import as_bytes, success_callback
from statements.services.importing import statement_import
from statements.tests import support

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
RECEIPT = "NLJ7RT61SV"


@pytest.mark.parametrize("repeat", range(3))
def test_statement_recovery_and_late_callback_complete_the_payment_once(repeat):
    # given: a pending payment whose callback is late
    payment = PaymentFactory()
    user = UserFactory()
    body = as_bytes(success_callback(payment.checkout_request_id, receipt=RECEIPT))
    data = support.csv_file(
        [support.paid_in(RECEIPT, account=payment.booking.reference)]
    )

    def deliver():
        response = Client().generic(
            "POST", callback_url(), body, content_type="application/json"
        )
        assert response.status_code == 200

    def import_statement():
        statement_import(data=data, filename="s.csv", user=user)

    # when
    errors = run_at_once(deliver, import_statement, import_statement)
    # then
    assert errors == []
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED
    assert payment.mpesa_receipt_number == RECEIPT
    completions = PaymentEvent.objects.filter(payment=payment, to_status="completed")
    assert completions.count() == 1
    receipt = MpesaReceipt.objects.get(receipt_number=RECEIPT)
    assert receipt.payment_id == payment.pk
    sources = sorted(receipt.sightings.values_list("source", flat=True))
    assert sources == ["statement", "stk_callback"]
    booking = Booking.objects.get(pk=payment.booking_id)
    assert booking.payment_status == Booking.PaymentStatus.PAID
