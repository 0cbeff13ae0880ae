"""Payments API: STK push, status polling, payment lists, Daraja callbacks
and C2B (Paybill) requests.

Views are thin: validate input, call one service or selector, serialize.
"""

from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from core.api_errors import INVALID_PAGE, NOT_FOUND, error_response
from payments.api.callback_security import (
    admit_callback,
    c2b_secret_matches,
    callback_secret_matches,
    read_limited_body,
    too_large_response,
)
from payments.api.payment_output import payment_output
from payments.api.serializers import (
    InputPaymentFilterSerializer,
    InputStatusWaitSerializer,
    InputStkPushSerializer,
    OutputCallbackAckSerializer,
    OutputPaymentSerializer,
    OutputStkPushSerializer,
)
from payments.api.throttles import StkPushUserThrottle, stk_push_phone_throttle
from payments.selectors import payment_get, payment_list
from payments.services.c2b import c2b_confirmation_intake, c2b_validation_intake
from payments.services.callbacks import payment_callback_intake
from payments.services.initiation import payment_initiate
from payments.services.status import payment_status_for_user
from payments.services.status_wait import payment_status_wait

CALLBACK_ACK = {"ResultCode": 0, "ResultDesc": "Accepted"}


@extend_schema_view(
    list=extend_schema(
        responses={200: OutputPaymentSerializer(many=True), 404: INVALID_PAGE}
    )
)
class PaymentViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The SPA's payment operations (seed guide paths) and payment lists."""

    serializer_class = OutputPaymentSerializer

    def get_throttles(self):
        if self.action == "stk_push":
            return [StkPushUserThrottle()]  # per phone: in the service
        return super().get_throttles()

    def get_queryset(self):
        filters = InputPaymentFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return payment_list(
            user=self.request.user,
            status=filters.validated_data.get("status"),
            booking_id=filters.validated_data.get("booking"),
        )

    @extend_schema(
        request=InputStkPushSerializer,
        responses={
            201: OutputStkPushSerializer,
            400: error_response("Invalid input, or an amount that is not owed"),
            404: NOT_FOUND,
            409: error_response("A payment is open, retry too soon, or not payable"),
            422: error_response("Idempotency-Key reused for another booking"),
            429: error_response("Too many pushes (per user or per phone)"),
            502: error_response("M-Pesa refused the request; the payment failed"),
            503: error_response(
                "M-Pesa unreachable, the outcome is unknown, or the server's "
                "callback URL is unusable (callback_url_unusable)"
            ),
        },
        parameters=[
            OpenApiParameter(
                "Idempotency-Key", str, OpenApiParameter.HEADER, required=False
            )
        ],
    )
    def stk_push(self, request):
        """Prompt the customer's phone to pay a booking (STK Push)."""
        data = InputStkPushSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        accepted = payment_initiate(
            user=request.user,
            idempotency_key=request.headers.get("Idempotency-Key") or None,
            phone_throttle=stk_push_phone_throttle,
            **data.validated_data,
        )
        response = Response(
            OutputStkPushSerializer(accepted).data, status=status.HTTP_201_CREATED
        )
        if accepted.replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    @extend_schema(
        parameters=[InputStatusWaitSerializer],
        responses={
            200: OutputPaymentSerializer,
            400: error_response("wait is not a whole number from 1 to 30"),
            404: NOT_FOUND,
        },
    )
    def status(self, request, checkout_request_id: str):
        """The payment for a CheckoutRequestID, as the database knows it."""
        # Under ASGI, StatusWaitMiddleware waits and sends each look here
        # without ``wait`` (payments/api/status_wait.py); this holds a thread.
        wait_seconds = status_wait_seconds(request.query_params)
        if wait_seconds:
            payment = payment_status_wait(
                checkout_request_id=checkout_request_id,
                user=request.user,
                wait_seconds=wait_seconds,
            )
        else:
            payment = payment_status_for_user(
                checkout_request_id=checkout_request_id, user=request.user
            )
        return Response(payment_output(payment))

    @extend_schema(responses={200: OutputPaymentSerializer, 404: NOT_FOUND})
    def retrieve(self, request, pk: int):
        payment = payment_get(payment_id=pk, user=request.user)
        return Response(OutputPaymentSerializer(payment).data)


class CallbackViewSet(viewsets.ViewSet):
    """Daraja posts STK results here; the last path segment is the secret."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={
            200: OutputCallbackAckSerializer,
            400: error_response("Not an STK callback (stored anyway)"),
            403: error_response("Source IP not in MPESA_CALLBACK_ALLOWED_IPS"),
            404: NOT_FOUND,
            413: error_response("Body over 64 KiB"),
        },
    )
    def create(self, request, secret: str):
        """Store the callback raw, apply it, and acknowledge it."""
        source_ip = admit_callback(request, secret_ok=callback_secret_matches(secret))
        body = read_limited_body(request)
        if body is None:
            return too_large_response()
        payment_callback_intake(
            raw_body=body, source_ip=source_ip, headers=request.headers
        )
        return Response(CALLBACK_ACK)


C2B_RESPONSES = {
    403: error_response("Source IP not in MPESA_CALLBACK_ALLOWED_IPS"),
    404: NOT_FOUND,
    413: error_response("Body over 64 KiB"),
}


class C2BViewSet(viewsets.ViewSet):
    """Safaricom posts Paybill (C2B) requests here, to the URLs registered
    by ``manage.py mpesa_register_c2b_urls``; the last path segment is
    ``MPESA_C2B_SECRET``. Same allowlist, proxy rules and size limit as
    the STK callback."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT, **C2B_RESPONSES},
        description='Answers {"ResultCode": "0", "ResultDesc": "Accepted"}, or '
        "rejects with C2B00012 (unknown account number, or a booking not "
        "awaiting payment), C2B00013 (not the amount owed) or C2B00016 (not "
        "a C2B request; stored anyway). MPESA_C2B_VALIDATE=0 accepts every "
        "well-formed request.",
    )
    def validation(self, request, secret: str):
        """Store a validation request raw and answer it."""
        source_ip = admit_callback(request, secret_ok=c2b_secret_matches(secret))
        body = read_limited_body(request)
        if body is None:
            return too_large_response()
        answer = c2b_validation_intake(
            raw_body=body, source_ip=source_ip, headers=request.headers
        )
        return Response(answer)

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={
            200: OutputCallbackAckSerializer,
            400: error_response("Not a C2B confirmation (stored anyway)"),
            **C2B_RESPONSES,
        },
    )
    def confirmation(self, request, secret: str):
        """Store a confirmation raw, record its money, and acknowledge it."""
        source_ip = admit_callback(request, secret_ok=c2b_secret_matches(secret))
        body = read_limited_body(request)
        if body is None:
            return too_large_response()
        c2b_confirmation_intake(
            raw_body=body, source_ip=source_ip, headers=request.headers
        )
        return Response(CALLBACK_ACK)


def status_wait_seconds(query: QueryDict) -> int | None:
    """``?wait=`` in seconds, None without it; a ``ValidationError`` (400)
    for anything but a whole number from 1 to 30."""
    if "wait" not in query:
        return None
    data = InputStatusWaitSerializer(data={"wait": query["wait"]})
    data.is_valid(raise_exception=True)
    return data.validated_data["wait"]
