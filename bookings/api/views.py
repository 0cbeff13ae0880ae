"""Thin API views: serializer in, one service or selector call, serializer out."""

from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from bookings.api import serializers as s
from bookings.api.throttles import BookingUserThrottle
from bookings.selectors import (
    advocate_list_active,
    advocate_slot_list,
    booking_get_for_user,
    booking_list_for_user,
)
from bookings.services import booking_cancel, booking_create
from core.api_errors import INVALID_PAGE, NOT_FOUND, error_response
from core.errors import error_body

ERROR_EXAMPLE = OpenApiExample(
    "Error",
    value=error_body("slot_taken", "This slot has just been booked."),
    response_only=True,
)


class AdvocateViewSet(viewsets.GenericViewSet):
    """Public: the advocates clients can book and their free slots."""

    permission_classes = (AllowAny,)
    lookup_value_regex = "[0-9]+"  # "/api/advocates/abc/slots/" is a 404
    serializer_class = s.OutputAdvocateSerializer

    def get_queryset(self):
        return advocate_list_active()

    @extend_schema(
        tags=["advocates"],
        summary="Active advocates with their consultation types and prices",
        responses={200: s.OutputAdvocateSerializer(many=True), 404: INVALID_PAGE},
    )
    def list(self, request: Request) -> Response:
        """Active advocates, paginated; prices are whole KES."""
        page = self.paginate_queryset(advocate_list_active())
        data = s.OutputAdvocateSerializer(page, many=True).data
        return self.get_paginated_response(data)

    @extend_schema(
        tags=["advocates"],
        summary="Free start times of one day (Africa/Nairobi), none in the past",
        parameters=[s.InputSlotQuerySerializer],
        responses={
            200: s.OutputSlotSerializer(many=True),
            400: error_response("Invalid query, or a day outside the window"),
            404: error_response("No such advocate"),
        },
        examples=[
            OpenApiExample(
                "Free slots",
                value=[{"time": "09:00", "start": "2026-12-02T09:00:00+03:00"}],
                response_only=True,
            )
        ],
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def slots(self, request: Request, pk: str) -> Response:
        """Free starts that day: not taken, not held, not on a day off, not past."""
        query = s.InputSlotQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        starts = advocate_slot_list(
            advocate_id=_int_pk(pk),
            day=query.validated_data["date"],
            consultation_type_code=query.validated_data["consultation_type"],
            duration=query.validated_data["duration"],
        )
        data = s.OutputSlotSerializer(
            [{"time": t, "start": t} for t in starts], many=True
        )
        return Response(data.data)


class BookingViewSet(viewsets.GenericViewSet):
    """A client's bookings: book, list, read, cancel. Other clients'
    bookings need ``bookings.view_booking`` to read and
    ``bookings.change_booking`` to cancel; ``is_staff`` alone grants none."""

    serializer_class = s.OutputBookingSerializer
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return booking_list_for_user(user=self.request.user)

    def get_throttles(self):
        if self.action == "book":
            return [BookingUserThrottle()]
        return super().get_throttles()

    @extend_schema(
        tags=["bookings"],
        operation_id="bookings_book",
        summary="Book a slot; it is held pending payment for BOOKING_HOLD_MINUTES",
        request=s.InputBookingCreateSerializer,
        responses={
            201: s.OutputBookingCreatedSerializer,
            400: error_response("Invalid input, past or too far ahead, or not offered"),
            409: error_response("The slot is taken, or too many unpaid bookings"),
            429: error_response("Too many booking requests (BOOKING_RATE_PER_USER)"),
        },
        examples=[
            OpenApiExample(
                "SPA booking",
                value={
                    "advocate_id": 1,
                    "date": "2026-12-01T21:00:00.000Z",
                    "time": "10:30 AM",
                    "consultation_type": "video",
                    "duration": 30,
                },
                request_only=True,
            ),
            ERROR_EXAMPLE,
        ],
    )
    def book(self, request: Request) -> Response:
        """Book a slot at the server's price; answer 201 with the payment hold.

        ``date`` is YYYY-MM-DD or an ISO datetime whose Africa/Nairobi
        calendar date is used; ``time`` is HH:MM or h:mm AM/PM.
        """
        payload = s.InputBookingCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        booking = booking_create(
            client=request.user,
            advocate_id=payload.validated_data["advocate_id"],
            start=payload.validated_data["start"],
            consultation_type_code=payload.validated_data["consultation_type"],
            duration=payload.validated_data["duration"],
        )
        data = s.OutputBookingCreatedSerializer(booking).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["bookings"],
        summary="Own bookings (all with view_booking), with the latest payment",
        responses={200: s.OutputBookingSerializer(many=True), 404: INVALID_PAGE},
    )
    def list(self, request: Request) -> Response:
        """Own bookings (all with view_booking), newest first, paginated."""
        page = self.paginate_queryset(booking_list_for_user(user=request.user))
        return self.get_paginated_response(
            s.OutputBookingSerializer(page, many=True).data
        )

    @extend_schema(
        tags=["bookings"],
        summary="One booking with its latest payment",
        responses={200: s.OutputBookingSerializer, 404: NOT_FOUND},
    )
    def retrieve(self, request: Request, pk: str) -> Response:
        """One booking; another client's booking is a 404."""
        booking = booking_get_for_user(booking_id=_int_pk(pk), user=request.user)
        return Response(s.OutputBookingSerializer(booking).data)

    @extend_schema(
        tags=["bookings"],
        summary="Cancel; a paid booking becomes refund_due",
        request=None,
        responses={
            200: s.OutputBookingSerializer,
            403: error_response("Another client's booking, without change_booking"),
            404: NOT_FOUND,
            409: error_response("This booking cannot be cancelled"),
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """Cancel; a paid booking becomes refund_due."""
        booking = booking_cancel(booking_id=_int_pk(pk), actor=request.user)
        # Re-read for the latest payment annotations of the answer.
        booking = booking_get_for_user(booking_id=booking.pk, user=request.user)
        return Response(s.OutputBookingSerializer(booking).data)


def _int_pk(pk: str) -> int:
    """The routes only match digits (``lookup_value_regex``)."""
    return int(pk)
