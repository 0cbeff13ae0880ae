"""Input and output serializers of the payments API."""

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from payments.api.payment_output import FINAL_STATUSES, payment_failure_kind
from payments.models import Payment
from payments.services.status_wait import MAX_WAIT_SECONDS


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Pay a booking",
            value={"phone_number": "0708374149", "booking_id": 123},
            request_only=True,
        )
    ]
)
class InputStkPushSerializer(serializers.Serializer):
    phone_number = serializers.CharField(max_length=32)
    booking_id = serializers.IntegerField(min_value=1)
    amount = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="Optional; if sent it must equal the booking's amount.",
    )
    account_reference = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="Accepted and ignored: the STK AccountReference is always the "
        "booking's reference (HY + 6 characters), so that a Paybill "
        "confirmation of the same payment names the booking.",
    )
    transaction_desc = serializers.CharField(
        required=False, allow_blank=True, max_length=200
    )


class OutputStkPushSerializer(serializers.Serializer):
    """The 201 answer to a push (the seed guide's Daraja-cased keys), built
    from the service's ``PushAccepted``; the schema documents the same."""

    MerchantRequestID = serializers.CharField(source="merchant_request_id")
    CheckoutRequestID = serializers.CharField(source="checkout_request_id")
    ResponseCode = serializers.CharField(source="response_code")
    ResponseDescription = serializers.CharField(source="response_description")
    CustomerMessage = serializers.CharField(source="customer_message")
    payment_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Payment.Status.choices)


# Declared fields rather than a ModelSerializer: the status endpoint is
# polled constantly, and model introspection per request was measurable.
class OutputPaymentSerializer(serializers.Serializer):
    """A payment as the database knows it (the status endpoint and lists)."""

    payment_id = serializers.IntegerField(source="pk")
    status = serializers.ChoiceField(choices=Payment.Status.choices)
    is_final = serializers.SerializerMethodField()
    result_code = serializers.CharField()
    result_desc = serializers.CharField()
    failure_reason = serializers.CharField()
    failure_kind = serializers.SerializerMethodField()
    amount = serializers.IntegerField()
    mpesa_receipt_number = serializers.CharField(allow_null=True)
    transaction_date = serializers.DateTimeField(allow_null=True)
    booking_id = serializers.IntegerField()
    booking_status = serializers.CharField(source="booking.status")
    booking_payment_status = serializers.CharField(source="booking.payment_status")
    merchant_request_id = serializers.CharField()
    checkout_request_id = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_failure_kind(self, payment: Payment) -> str | None:
        return payment_failure_kind(payment)

    def get_is_final(self, payment: Payment) -> bool:
        return payment.status in FINAL_STATUSES


class InputStatusWaitSerializer(serializers.Serializer):
    wait = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_WAIT_SECONDS,
        help_text="Answer as soon as the payment is final, else with its "
        "current state after this many seconds.",
    )


class InputPaymentFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Payment.Status.choices, required=False)
    booking = serializers.IntegerField(required=False, min_value=1)


class OutputCallbackAckSerializer(serializers.Serializer):
    ResultCode = serializers.IntegerField()
    ResultDesc = serializers.CharField()
