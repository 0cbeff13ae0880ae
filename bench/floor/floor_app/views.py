"""The floor's two views: the essential work of ours, nothing more."""

import json
from datetime import UTC, datetime

from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.response import Response
from rest_framework.views import APIView

from floor_app.models import Booking, Payment, RawCallback, StatusEvent

ACK = {"ResultCode": 0, "ResultDesc": "Accepted"}
FINAL = {"completed", "failed", "expired", "cancelled"}


@csrf_exempt
def callback(request, secret):
    """Raw body committed on its own, then lock, confirm, complete, event."""
    RawCallback.objects.create(body=request.body, source_ip=request.META["REMOTE_ADDR"])
    stk = json.loads(request.body)["Body"]["stkCallback"]
    items = {i["Name"]: i.get("Value") for i in stk["CallbackMetadata"]["Item"]}
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(
            checkout_request_id=stk["CheckoutRequestID"]
        )
        if payment.status == "pending":
            Booking.objects.filter(pk=payment.booking_id).update(
                status="confirmed", payment_status="paid"
            )
            payment.status = "completed"
            payment.result_code = str(stk["ResultCode"])
            payment.result_desc = stk["ResultDesc"]
            payment.mpesa_receipt_number = items["MpesaReceiptNumber"]
            payment.transaction_date = datetime.strptime(
                str(items["TransactionDate"]), "%Y%m%d%H%M%S"
            ).replace(tzinfo=UTC)
            payment.save()
            StatusEvent.objects.create(
                payment=payment, from_status="pending", to_status="completed"
            )
    return JsonResponse(ACK)


class Status(APIView):
    """DRF token authentication, one indexed read, our status fields."""

    def get(self, request, checkout_request_id):
        try:
            p = Payment.objects.select_related("booking").get(
                checkout_request_id=checkout_request_id, initiated_by=request.user
            )
        except Payment.DoesNotExist:
            return HttpResponse(status=404)
        return Response(
            {
                "payment_id": p.pk,
                "status": p.status,
                "is_final": p.status in FINAL,
                "result_code": p.result_code,
                "result_desc": p.result_desc,
                "failure_reason": p.failure_reason,
                "failure_kind": None,
                "amount": p.amount,
                "mpesa_receipt_number": p.mpesa_receipt_number,
                "transaction_date": p.transaction_date,
                "booking_id": p.booking_id,
                "booking_status": p.booking.status,
                "booking_payment_status": p.booking.payment_status,
                "merchant_request_id": p.merchant_request_id,
                "checkout_request_id": p.checkout_request_id,
                "created_at": p.created_at,
                "updated_at": p.updated_at,
            }
        )
