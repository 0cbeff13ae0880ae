"""A callback that overtakes our own record of the push."""

import pytest

from bookings.tests.factories import BookingFactory
from payments.models import Payment, PaymentEvent
from payments.services.initiation import payment_initiate
from payments.services.reconciliation import payment_query
from payments.tests.conftest import callback_url
from payments.tests.fakes import FakeDarajaClient, accepted_push, query_answer
from payments.tests.payloads import as_bytes, success_callback

pytestmark = pytest.mark.django_db


class CallbackFirstClient(FakeDarajaClient):
    """Daraja accepts the push, and its callback reaches us before we have
    committed the CheckoutRequestID (found by the fault-injection soak)."""

    def __init__(self, http, **kwargs):
        super().__init__(**kwargs)
        self.http = http

    def stk_push(self, **kwargs):
        result = super().stk_push(**kwargs)
        body = success_callback(result.checkout_request_id, amount=3000.0)
        self.http.generic(
            "POST", callback_url(), as_bytes(body), content_type="application/json"
        )
        return result


def test_callback_that_overtakes_the_push_is_applied_once_the_push_is_recorded(
    client,
):
    # given
    booking = BookingFactory()
    daraja = CallbackFirstClient(
        client,
        push_result=accepted_push("ws_CO_RACE00000001"),
        query_result=query_answer("0"),
    )
    # when
    answer = payment_initiate(
        user=booking.client,
        booking_id=booking.pk,
        phone_number="254708374149",
        client=daraja,
    )
    # then
    payment = Payment.objects.get(pk=answer.payment_id)
    assert PaymentEvent.objects.get(kind=PaymentEvent.Kind.CALLBACK).payment_id is None
    assert (payment.status, payment.mpesa_receipt_number) == ("completed", "NLJ7RT61SV")
    assert payment.events.filter(to_status="completed").count() == 1


def test_query_completion_takes_the_receipt_of_an_unmatched_early_callback(client):
    # given: the early callback was stored unmatched and not yet applied
    booking = BookingFactory()
    payment_initiate(
        user=booking.client,
        booking_id=booking.pk,
        phone_number="254708374149",
        client=FakeDarajaClient(push_result=accepted_push("ws_CO_RACE00000002")),
    )
    payment = Payment.objects.get()
    client.generic(
        "POST",
        callback_url(),
        as_bytes(success_callback("ws_CO_UNRELATED")),
        content_type="application/json",
    )
    PaymentEvent.objects.create(
        kind=PaymentEvent.Kind.CALLBACK,
        checkout_request_id="ws_CO_RACE00000002",
        request_body=success_callback("ws_CO_RACE00000002", receipt="NLJEARLY01"),
    )
    # when
    payment_query(
        payment_id=payment.pk, client=FakeDarajaClient(query_result=query_answer("0"))
    )
    # then
    payment.refresh_from_db()
    assert payment.status == "completed"
    assert payment.mpesa_receipt_number == "NLJEARLY01"


def test_early_success_callback_waits_for_verification_in_verify_mode(client, settings):
    # given
    settings.MPESA_VERIFY_CALLBACKS = True
    booking = BookingFactory()
    daraja = CallbackFirstClient(
        client, push_result=accepted_push("ws_CO_RACE00000003")
    )
    # when
    answer = payment_initiate(
        user=booking.client,
        booking_id=booking.pk,
        phone_number="254708374149",
        client=daraja,
    )
    # then: pending until a query agrees
    assert Payment.objects.get(pk=answer.payment_id).status == "pending"
