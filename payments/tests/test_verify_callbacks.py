import pytest

from payments.models import Payment
from payments.tests.conftest import callback_url
from payments.tests.factories import PaymentFactory
from payments.tests.fakes import query_answer
from payments.tests.payloads import as_bytes, success_callback

pytestmark = pytest.mark.django_db
Status = Payment.Status


@pytest.fixture(autouse=True)
def _verify(settings):
    settings.MPESA_VERIFY_CALLBACKS = True


def deliver(client, payment, captured):
    with captured(execute=True):
        return client.generic(
            "POST",
            callback_url(),
            as_bytes(success_callback(payment.checkout_request_id)),
            content_type="application/json",
        )


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
