"""Daraja's ResultURL and QueueTimeOutURL (Reversal, B2C, Transaction
Status): the last path segment is ``MPESA_RESULT_SECRET``; same allowlist,
proxy rules and size limit as the STK callback. The body is stored raw
before anything else (``services.async_results``)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from core.api_errors import NOT_FOUND, error_response
from payments.api.callback_security import (
    admit_callback,
    read_limited_body,
    result_secret_matches,
    too_large_response,
)
from payments.api.serializers import OutputCallbackAckSerializer
from payments.api.views import CALLBACK_ACK
from payments.services.async_results import result_intake

RESULT_RESPONSES = {
    200: OutputCallbackAckSerializer,
    400: error_response("Not a Daraja Result (stored anyway)"),
    403: error_response("Source IP not in MPESA_CALLBACK_ALLOWED_IPS"),
    404: NOT_FOUND,
    413: error_response("Body over 64 KiB"),
}


class ResultViewSet(viewsets.ViewSet):
    """Daraja posts results (``result``) and queue time-out notices
    (``timeout``) here."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()

    @extend_schema(request=OpenApiTypes.OBJECT, responses=RESULT_RESPONSES)
    def result(self, request, secret: str):
        """Store a result raw, apply it to its refund or check, acknowledge."""
        return _take(request, secret, timeout=False)

    @extend_schema(request=OpenApiTypes.OBJECT, responses=RESULT_RESPONSES)
    def timeout(self, request, secret: str):
        """Store a queue time-out notice raw (the refund becomes unknown)."""
        return _take(request, secret, timeout=True)


def _take(request, secret: str, *, timeout: bool) -> Response:
    source_ip = admit_callback(request, secret_ok=result_secret_matches(secret))
    body = read_limited_body(request)
    if body is None:
        return too_large_response()
    result_intake(
        raw_body=body, source_ip=source_ip, headers=request.headers, timeout=timeout
    )
    return Response(CALLBACK_ACK)
