"""Input and output serializers of the staff refunds API."""

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from payments.models import Refund
from payments.phone import mask_phone
from payments.services.refund_policy import MAX_REASON_TEXT_LENGTH


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Refund a whole receipt",
            value={"receipt_number": "TLK7REF001", "reason": "cancelled"},
            request_only=True,
        )
    ]
)
class InputRefundRequestSerializer(serializers.Serializer):
    receipt_number = serializers.CharField(max_length=32)
    amount = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="Whole KES; omit (or null) to refund the whole receipt.",
    )
    reason = serializers.ChoiceField(choices=Refund.Reason.choices)
    reason_text = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_REASON_TEXT_LENGTH,
        help_text='Required when the reason is "other".',
    )
    recipient_phone = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text="B2C (part of a receipt) only: the number the money goes "
        "to, when M-Pesa gave the payer's number masked or hashed.",
    )


class InputRefundNoteSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_REASON_TEXT_LENGTH
    )


class InputRefundRejectSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=MAX_REASON_TEXT_LENGTH, help_text="Why it is rejected."
    )


class InputRefundFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Refund.Status.choices, required=False)


class OutputRefundSerializer(serializers.Serializer):
    """A refund as staff see it; the recipient's number masked."""

    id = serializers.IntegerField()
    receipt_number = serializers.CharField(source="receipt.receipt_number")
    booking_reference = serializers.CharField(
        source="booking.reference", allow_null=True, default=None
    )
    amount = serializers.IntegerField()
    method = serializers.ChoiceField(choices=Refund.Method.choices)
    reason = serializers.ChoiceField(choices=Refund.Reason.choices)
    reason_text = serializers.CharField()
    status = serializers.ChoiceField(choices=Refund.Status.choices)
    requested_by = serializers.CharField(source="requested_by.username")
    approved_by = serializers.CharField(
        source="approved_by.username", allow_null=True, default=None
    )
    originator_conversation_id = serializers.UUIDField()
    conversation_id = serializers.CharField()
    result_code = serializers.CharField()
    result_description = serializers.CharField()
    refund_receipt_number = serializers.CharField()
    recipient_phone = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    approved_at = serializers.DateTimeField(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)

    def get_recipient_phone(self, refund: Refund) -> str:
        return mask_phone(refund.recipient_phone) if refund.recipient_phone else ""
