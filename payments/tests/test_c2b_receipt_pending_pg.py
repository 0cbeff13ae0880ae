"""Review defect 3 on PostgreSQL: the C2B copy and the late STK callback of
money a query completed (receipt pending) at one moment are one receipt,
that payment's."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from core.tests.concurrency import run_at_once
from core.time import NAIROBI
from payments.models import MpesaReceipt, Payment
from payments.services.reconciliation import payment_query
from payments.tests.conftest import c2b_url, callback_url
from payments.tests.factories import PaymentFactory
from payments.tests.fakes import FakeDarajaClient, query_answer
from payments.tests.payloads import as_bytes, c2b_request, success_callback

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
RECEIPT = "TLK8PG00RC"


def _post(url: str, payload: dict) -> None:
    response = Client().generic(
        "POST", url, as_bytes(payload), content_type="application/json"
    )
    assert response.status_code == 200


@pytest.mark.parametrize("attempt", range(5))
def test_c2b_copy_and_late_callback_at_once_are_one_receipt_of_the_payment(attempt):
    # given: a payment an STK Query completed, without its receipt
    payment = PaymentFactory()
    payment_query(
        payment_id=payment.pk, client=FakeDarajaClient(query_result=query_answer("0"))
    )
    paid_at = timezone.localtime(payment.accepted_at + timedelta(seconds=20), NAIROBI)
    copy = c2b_request(
        account=payment.booking.reference,
        trans_id=RECEIPT,
        trans_time=paid_at.strftime("%Y%m%d%H%M%S"),
    )
    callback = success_callback(payment.checkout_request_id, receipt=RECEIPT)

    # when
    errors = run_at_once(
        lambda: _post(callback_url(), callback),
        lambda: _post(c2b_url("confirmation"), copy),
    )

    # then
    assert errors == []
    payment.refresh_from_db()
    assert (payment.status, payment.mpesa_receipt_number) == (
        Payment.Status.COMPLETED,
        RECEIPT,
    )
    receipt = MpesaReceipt.objects.get()
    assert (receipt.allocation, receipt.payment_id) == ("allocated", payment.pk)
    assert sorted(receipt.sightings.values_list("source", flat=True)) == [
        "c2b_confirmation",
        "stk_callback",
    ]
