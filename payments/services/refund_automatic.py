"""Refunds nobody has to remember: requested by the system user for money
a booking owes back, a person still approves each one.

``refunds_request_due`` (beat, every ``REFUND_AUTOMATIC_INTERVAL_SECONDS``)
finds receipts of ``refund_due`` bookings that have no refund yet: a paid
booking cancelled at least ``REFUND_FULL_IF_CANCELLED_HOURS_BEFORE`` hours
before it starts (a later cancellation is left to staff), or money that
arrived after its booking could no longer be confirmed. Each is requested
whole through ``refunds.refund_request(only_if_first=True)``, so a rerun,
or staff asking at the same moment, never makes a second request.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q

from bookings.models import Booking
from payments.exceptions import PaymentError
from payments.models import MpesaReceipt, Refund
from payments.services.refunds import refund_request
from payments.services.system_user import refund_system_user

logger = logging.getLogger(__name__)
Reason = MpesaReceipt.UnallocatedReason


@dataclass(frozen=True, slots=True)
class AutomaticRefunds:
    requested: int
    refused: int


def refunds_request_due(*, limit: int = 500) -> AutomaticRefunds:
    """Request the refunds bookings owe; returns how many were requested
    and how many the rules refused (logged, left to staff)."""
    due = list(_receipts_due()[:limit])
    if not due:
        return AutomaticRefunds(0, 0)
    system = refund_system_user()
    requested = refused = 0
    for receipt_number, booking_status in due:
        reason = (
            Refund.Reason.CANCELLED
            if booking_status == Booking.Status.CANCELLED
            else Refund.Reason.PAID_TOO_LATE
        )
        try:
            refund = refund_request(
                receipt_number=receipt_number,
                reason=reason,
                reason_text="Requested automatically.",
                actor=system,
                only_if_first=True,
            )
        except PaymentError as exc:
            refused += 1
            logger.warning(
                "automatic refund of receipt %s refused: %s",
                receipt_number,
                exc.message,
            )
            continue
        requested += refund is not None
    return AutomaticRefunds(requested, refused)


def _receipts_due():
    """(receipt number, booking status) of money in, owed back by its
    booking, with no refund of any status yet (a rejected one stays a
    person's decision)."""
    hours = timedelta(hours=settings.REFUND_FULL_IF_CANCELLED_HOURS_BEFORE)
    early_cancellation = Q(booking__status=Booking.Status.CANCELLED) & Q(
        booking__start__gte=F("booking__cancelled_at") + hours
    )
    paid_too_late = ~Q(booking__status=Booking.Status.CANCELLED)
    return (
        MpesaReceipt.objects.filter(
            direction=MpesaReceipt.Direction.IN,
            booking__payment_status=Booking.PaymentStatus.REFUND_DUE,
            refunds__isnull=True,
        )
        .filter(
            Q(allocation=MpesaReceipt.Allocation.ALLOCATED)
            | Q(
                allocation=MpesaReceipt.Allocation.UNALLOCATED,
                unallocated_reason=Reason.BOOKING_NOT_PAYABLE,
            )
        )
        .filter(early_cancellation | paid_too_late)
        .order_by("created_at", "id")
        .values_list("receipt_number", "booking__status")
    )
