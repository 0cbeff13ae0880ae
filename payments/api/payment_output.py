"""``OutputPaymentSerializer``'s JSON, built without a serializer instance.

The status endpoint is the hottest read (every waiting page polls it):
building the serializer deep-copies its 17 declared fields on every call,
about 0.3 ms of a poll's 2.2 ms of CPU (measured in-process, 2026-12-03).
This builds the same dict from the payment directly; the serializer stays
the schema's, and a test holds the two equal for every status.
"""

from rest_framework import serializers

from payments.models import Payment
from payments.result_codes import failure_kind

FINAL_STATUSES = ("completed", "failed", "expired", "needs_review")
# One unbound field formats datetimes as the serializer's fields do.
_datetime = serializers.DateTimeField()


def payment_output(payment: Payment) -> dict:
    """The payment as ``OutputPaymentSerializer(payment).data`` has it."""
    booking = payment.booking
    return {
        "payment_id": payment.pk,
        "status": payment.status,
        "is_final": payment.status in FINAL_STATUSES,
        "result_code": payment.result_code,
        "result_desc": payment.result_desc,
        "failure_reason": payment.failure_reason,
        "failure_kind": payment_failure_kind(payment),
        "amount": payment.amount,
        "mpesa_receipt_number": payment.mpesa_receipt_number,
        "transaction_date": _when(payment.transaction_date),
        "booking_id": payment.booking_id,
        "booking_status": booking.status,
        "booking_payment_status": booking.payment_status,
        "merchant_request_id": payment.merchant_request_id,
        "checkout_request_id": payment.checkout_request_id,
        "created_at": _when(payment.created_at),
        "updated_at": _when(payment.updated_at),
    }


def payment_failure_kind(payment: Payment) -> str | None:
    """``expired``, or the kind of a failure's result code; None otherwise."""
    if payment.status == Payment.Status.EXPIRED:
        return "expired"
    if payment.status == Payment.Status.FAILED:
        return failure_kind(payment.result_code)
    return None


def _when(value):
    return None if value is None else _datetime.to_representation(value)
