"""The status endpoint's JSON is built without a serializer instance
(payments/api/payment_output.py); it must stay exactly the serializer's,
which documents it in the schema."""

import pytest
from django.utils import timezone

from payments.api.payment_output import payment_output
from payments.api.serializers import OutputPaymentSerializer
from payments.models import Payment
from payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "traits",
    [
        {},
        {"initiated": True},
        {"completed": True, "transaction_date": timezone.now()},
        {"failed": True},
        {"failed": True, "result_code": "1037"},
        {"status": Payment.Status.EXPIRED},
        {"needs_review": True},
    ],
)
def test_payment_output_is_the_serializers_data(traits):
    payment = PaymentFactory(**traits)
    payment = Payment.objects.select_related("booking").get(pk=payment.pk)
    assert payment_output(payment) == dict(OutputPaymentSerializer(payment).data)


def test_payment_output_has_every_field_the_serializer_declares():
    payment = PaymentFactory()
    assert list(payment_output(payment)) == list(OutputPaymentSerializer().fields)


def test_the_status_endpoint_answers_with_it(api_client):
    payment = PaymentFactory(completed=True)
    api_client.force_authenticate(payment.initiated_by)
    response = api_client.get(
        f"/api/payment/mpesa/status/{payment.checkout_request_id}"
    )
    assert response.status_code == 200
    payment.refresh_from_db()
    assert response.json() == {
        **OutputPaymentSerializer(payment).data,
        "payment_id": payment.pk,
    }
