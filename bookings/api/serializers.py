"""Input* serializers validate requests; Output* serializers shape answers."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bookings.api.fields import LocalDateField, SlotTimeField, local_start
from bookings.models import Advocate, Booking, ConsultationKind, ConsultationType


class OutputConsultationTypeSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)
    price = serializers.IntegerField(help_text="Whole KES.")
    duration = serializers.IntegerField(help_text="Minutes.")

    class Meta:
        model = ConsultationType
        fields = ("code", "name", "duration", "price")


class OutputAdvocateSerializer(serializers.ModelSerializer):
    practice_areas = serializers.SlugRelatedField(
        slug_field="name", many=True, read_only=True
    )
    consultation_types = OutputConsultationTypeSerializer(many=True, read_only=True)

    class Meta:
        model = Advocate
        fields = ("id", "name", "practice_areas", "bio", "consultation_types")


class InputSlotQuerySerializer(serializers.Serializer):
    date = LocalDateField(help_text="YYYY-MM-DD (Africa/Nairobi).")
    consultation_type = serializers.ChoiceField(choices=ConsultationKind.choices)
    duration = serializers.IntegerField(min_value=1, max_value=480, default=30)


class OutputSlotSerializer(serializers.Serializer):
    time = serializers.DateTimeField(format="%H:%M", help_text="HH:MM, Nairobi.")
    start = serializers.DateTimeField(help_text="ISO 8601 with +03:00 offset.")


class InputBookingCreateSerializer(serializers.Serializer):
    advocate_id = serializers.IntegerField(min_value=1)
    date = LocalDateField(
        help_text="YYYY-MM-DD, or an ISO datetime whose Africa/Nairobi "
        "calendar date is the day (the SPA's date.toISOString())."
    )
    time = SlotTimeField(help_text="HH:MM or h:mm AM/PM, Africa/Nairobi.")
    consultation_type = serializers.ChoiceField(choices=ConsultationKind.choices)
    duration = serializers.IntegerField(min_value=1, max_value=480)

    def validate(self, attrs: dict) -> dict:
        attrs["start"] = local_start(attrs.pop("date"), attrs.pop("time"))
        return attrs


class OutputAdvocateBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Advocate
        fields = ("id", "name")


class OutputBookingCreatedSerializer(serializers.ModelSerializer):
    booking_id = serializers.IntegerField(source="pk")
    amount = serializers.IntegerField(help_text="Whole KES, the server's price.")
    currency = serializers.SerializerMethodField()
    advocate = OutputAdvocateBriefSerializer()

    class Meta:
        model = Booking
        fields = (
            "booking_id",
            "reference",
            "amount",
            "currency",
            "status",
            "payment_status",
            "expires_at",
            "advocate",
            "consultation_type",
            "duration",
            "start",
            "end",
        )

    def get_currency(self, booking: Booking) -> str:
        return "KES"


class OutputLatestPaymentSerializer(serializers.Serializer):
    status = serializers.CharField()
    mpesa_receipt_number = serializers.CharField(allow_null=True)


class OutputPaidReceiptSerializer(serializers.Serializer):
    receipt_number = serializers.CharField(help_text="The M-Pesa receipt.")
    channel = serializers.CharField(help_text="stk, paybill, till, ...")


class OutputBookingSerializer(serializers.ModelSerializer):
    advocate = OutputAdvocateBriefSerializer()
    amount = serializers.IntegerField(help_text="Whole KES.")
    latest_payment = serializers.SerializerMethodField()
    receipt = serializers.SerializerMethodField(
        help_text="The M-Pesa receipt that paid this booking, whichever way "
        "it was paid (STK prompt, Paybill, staff allocation); null when none "
        "is known (unpaid, or paid by an STK query that returns no receipt)."
    )

    class Meta:
        model = Booking
        fields = (
            "id",
            "reference",
            "advocate",
            "consultation_type",
            "duration",
            "start",
            "end",
            "amount",
            "status",
            "payment_status",
            "expires_at",
            "latest_payment",
            "receipt",
            "created_at",
        )

    @extend_schema_field(OutputLatestPaymentSerializer(allow_null=True))
    def get_latest_payment(self, booking: Booking) -> dict | None:
        status = getattr(booking, "latest_payment_status", None)
        if status is None:
            return None
        return {
            "status": status,
            "mpesa_receipt_number": getattr(booking, "latest_payment_receipt", None),
        }

    @extend_schema_field(OutputPaidReceiptSerializer(allow_null=True))
    def get_receipt(self, booking: Booking) -> dict | None:
        number = getattr(booking, "paid_receipt_number", None)
        if number is None:
            return None
        return {
            "receipt_number": number,
            "channel": getattr(booking, "paid_receipt_channel", None),
        }
