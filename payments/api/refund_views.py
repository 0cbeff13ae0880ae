"""The staff refunds API (issue 14, point 9), for back-office tools.

Reading needs ``payments.view_refund`` (Support, Finance); everyone else,
clients included, gets 403 on every endpoint. Requesting and deciding go
through ``payments.services.refunds``, which checks the rest (request,
approve, the limit, maker and checker) and raises the errors rendered
here: 400 input, 403 permission, 404 unknown id, 409 a rule or a state.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from core.api_errors import INVALID_PAGE, NOT_FOUND, error_response
from payments.api.refund_serializers import (
    InputRefundFilterSerializer,
    InputRefundNoteSerializer,
    InputRefundRejectSerializer,
    InputRefundRequestSerializer,
    OutputRefundSerializer,
)
from payments.refund_selectors import refund_get, refund_list
from payments.services.refunds import (
    refund_approve,
    refund_cancel,
    refund_reject,
    refund_request,
)

VIEW_PERMISSION = "payments.view_refund"
FORBIDDEN = error_response("Not a staff user allowed to do this with refunds")
DECISION_RESPONSES = {
    200: OutputRefundSerializer,
    400: error_response("Invalid input (the field is named)"),
    403: FORBIDDEN,
    404: NOT_FOUND,
    409: error_response(
        "Not allowed in this refund's state, or you requested it yourself"
    ),
}


class MayViewRefunds(BasePermission):
    message = "Only staff allowed to view refunds may use this API."

    def has_permission(self, request, view) -> bool:
        return request.user.has_perm(VIEW_PERMISSION)


@extend_schema_view(
    list=extend_schema(
        responses={
            200: OutputRefundSerializer(many=True),
            400: error_response("Unknown status"),
            403: FORBIDDEN,
            404: INVALID_PAGE,
        }
    )
)
class RefundViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Staff refunds: list, read, request, approve, reject, cancel."""

    serializer_class = OutputRefundSerializer
    permission_classes = (IsAuthenticated, MayViewRefunds)

    def get_queryset(self):
        filters = InputRefundFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return refund_list(status=filters.validated_data.get("status"))

    @extend_schema(
        request=InputRefundRequestSerializer,
        responses={
            201: OutputRefundSerializer,
            400: error_response(
                "Invalid input, an unknown receipt, or more than is left "
                "to refund (the field is named)"
            ),
            403: FORBIDDEN,
            409: error_response("Not refundable now (e.g. the booking is paid)"),
        },
    )
    def create(self, request):
        """Request a refund of a receipt (the whole of it by default)."""
        data = InputRefundRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        refund = refund_request(actor=request.user, **data.validated_data)
        return Response(_out(refund.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={200: OutputRefundSerializer, 403: FORBIDDEN, 404: NOT_FOUND}
    )
    def retrieve(self, request, pk: int):
        return Response(_out(pk))

    @extend_schema(request=InputRefundNoteSerializer, responses=DECISION_RESPONSES)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk: int):
        """The second person's yes (needs payments.approve_refund)."""
        data = InputRefundNoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        refund = refund_approve(refund_id=pk, actor=request.user, **data.validated_data)
        return Response(_out(refund.pk))

    @extend_schema(request=InputRefundRejectSerializer, responses=DECISION_RESPONSES)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk: int):
        """The approver's no, saying why (needs payments.approve_refund)."""
        data = InputRefundRejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        refund = refund_reject(refund_id=pk, actor=request.user, **data.validated_data)
        return Response(_out(refund.pk))

    @extend_schema(request=InputRefundNoteSerializer, responses=DECISION_RESPONSES)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk: int):
        """The requester withdraws a refund not yet approved."""
        data = InputRefundNoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        refund = refund_cancel(refund_id=pk, actor=request.user, **data.validated_data)
        return Response(_out(refund.pk))


def _out(refund_id: int) -> dict:
    # Read again with its joins: the services return the locked row alone.
    return OutputRefundSerializer(refund_get(refund_id=refund_id)).data
