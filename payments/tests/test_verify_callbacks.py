import pytest

from bookings.models import Booking
from payments.models import Payment, PaymentEvent
from payments.tests.conftest import callback_url
from payments.tests.factories import PaymentFactory
from payments.tests.fakes import query_answer
from payments.tests.payloads import as_bytes, failure_callback, success_callback

pytestmark = pytest.mark.django_db
Status = Payment.Status


@pytest.fixture(autouse=True)
def _verify(settings):
    settings.MPESA_VERIFY_CALLBACKS = True


def deliver(client, payment, captured, payload=None):
    payload = payload or success_callback(
        payment.checkout_request_id, merchant_request_id=payment.merchant_request_id
    )
    with captured(execute=True):
        return client.generic(
            "POST", callback_url(), as_bytes(payload), content_type="application/json"
        )


def contradiction_notes(payment) -> list[str]:
    notes = PaymentEvent.objects.filter(payment=payment, kind="note")
    return [n.reason for n in notes if "contradicted by Daraja" in n.reason]


def test_verified_success_completes_with_the_callbacks_receipt(
    client, fake_daraja, django_capture_on_commit_callbacks
):
    # given
    payment = PaymentFactory()
    fake_daraja.query_result = query_answer("0")
    # when
    response = deliver(client, payment, django_capture_on_commit_callbacks)
    # then
    assert response.status_code == 200
    payment.refresh_from_db()
    assert fake_daraja.queries == [payment.checkout_request_id]
    assert payment.status == Status.COMPLETED
    assert payment.mpesa_receipt_number == "NLJ7RT61SV"


def test_success_contradicted_by_the_query_goes_to_review(
    client, fake_daraja, django_capture_on_commit_callbacks
):
    # given
    payment = PaymentFactory()
    fake_daraja.query_result = query_answer("1032")
    # when
    deliver(client, payment, django_capture_on_commit_callbacks)
    # then
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW


def test_unverified_success_is_not_applied_before_the_query_answers(
    client, fake_daraja, django_capture_on_commit_callbacks
):
    # given: Daraja still processing, so the verification will retry later
    payment = PaymentFactory()
    # when
    with pytest.raises(Exception, match="Retry|processed"):
        deliver(client, payment, django_capture_on_commit_callbacks)
    # then
    payment.refresh_from_db()
    assert payment.status == Status.PENDING


def test_forged_failure_callback_does_not_fail_a_paid_payment(
    client, fake_daraja, django_capture_on_commit_callbacks
):
    # given: the client paid (Daraja's answer says 0); someone posts a 1032
    payment = PaymentFactory()
    fake_daraja.query_result = query_answer("0", "The service request is processed")
    forged = failure_callback(
        payment.checkout_request_id, merchant_request_id=payment.merchant_request_id
    )
    # when
    deliver(client, payment, django_capture_on_commit_callbacks, forged)
    # then
    payment.refresh_from_db()
    assert fake_daraja.queries == [payment.checkout_request_id]
    assert payment.status == Status.COMPLETED
    assert payment.result_desc == "The service request is processed"
    assert Booking.objects.get(pk=payment.booking_id).status == "confirmed"
    assert len(contradiction_notes(payment)) == 1


def test_failure_callback_is_applied_only_once_the_query_agrees(
    client, fake_daraja, django_capture_on_commit_callbacks
):
    # given
    payment = PaymentFactory()
    fake_daraja.query_result = query_answer("1032", "Request cancelled by user")
    # when
    deliver(
        client,
        payment,
        django_capture_on_commit_callbacks,
        failure_callback(
            payment.checkout_request_id,
            merchant_request_id=payment.merchant_request_id,
        ),
    )
    # then
    payment.refresh_from_db()
    assert fake_daraja.queries == [payment.checkout_request_id]
    assert payment.status == Status.FAILED
    assert payment.result_code == "1032"
    assert contradiction_notes(payment) == []


def test_failure_callback_is_not_applied_before_the_query_answers(
    client, fake_daraja, django_capture_on_commit_callbacks
):
    # given: Daraja still processing
    payment = PaymentFactory()
    # when
    with pytest.raises(Exception, match="Retry|processed"):
        deliver(
            client,
            payment,
            django_capture_on_commit_callbacks,
            failure_callback(payment.checkout_request_id),
        )
    # then
    payment.refresh_from_db()
    assert payment.status == Status.PENDING


def test_failure_code_from_the_answer_wins_over_the_callbacks(
    client, fake_daraja, django_capture_on_commit_callbacks
):
    # given
    payment = PaymentFactory()
    fake_daraja.query_result = query_answer("1037", "DS timeout user cannot be reached")
    # when
    deliver(
        client,
        payment,
        django_capture_on_commit_callbacks,
        failure_callback(
            payment.checkout_request_id,
            merchant_request_id=payment.merchant_request_id,
        ),
    )
    # then
    payment.refresh_from_db()
    assert payment.status == Status.FAILED
    assert payment.result_code == "1037"
    assert len(contradiction_notes(payment)) == 1


def test_verified_success_with_contradicted_details_keeps_darajas_answer(
    client, fake_daraja, django_capture_on_commit_callbacks
):
    # given: a success callback whose MerchantRequestID is not our push's
    payment = PaymentFactory()
    fake_daraja.query_result = query_answer("0", "The service request is processed")
    payload = success_callback(
        payment.checkout_request_id, merchant_request_id="99999-forged-1"
    )
    # when
    deliver(client, payment, django_capture_on_commit_callbacks, payload)
    # then: paid on Daraja's word, but the callback's receipt is not taken
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert payment.mpesa_receipt_number is None
    assert payment.result_desc == "The service request is processed"
    assert len(contradiction_notes(payment)) == 1
