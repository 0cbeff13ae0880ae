"""The one place that changes a booking's ``status`` or ``payment_status``.

``booking_transition`` locks the row and checks both transition tables;
``booking_confirm_if_awaiting_payment`` is its one-statement fast path for
the commonest move. Every other booking service calls one of them.
"""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from bookings.exceptions import InvalidBookingTransition
from bookings.models import Booking
from core.compiled_sql import update_rows

logger = logging.getLogger(__name__)

Status = Booking.Status


def booking_transition(
    *,
    booking_id: int,
    status: str | None = None,
    payment_status: str | None = None,
    **fields: object,
) -> Booking:
    """Move a booking to ``status`` and/or ``payment_status``, under a lock.

    A target equal to the current value is a no-op for that field, so
    repeats are idempotent. Raises ``InvalidBookingTransition``.
    """
    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=booking_id)
        changes: dict[str, object] = {}
        if status is not None and status != booking.status:
            if not Booking.can_transition(booking.status, status):
                raise InvalidBookingTransition(
                    f"A {booking.status} booking cannot become {status}."
                )
            changes["status"] = status
        if payment_status is not None and payment_status != booking.payment_status:
            if not Booking.can_transition_payment(
                booking.payment_status, payment_status
            ):
                raise InvalidBookingTransition(
                    f"Payment status {booking.payment_status} cannot become "
                    f"{payment_status}."
                )
            changes["payment_status"] = payment_status
        if not changes:
            logger.info("Booking %s already in that state", booking_id)
            return booking
        changes.update(fields)
        for name, value in changes.items():
            setattr(booking, name, value)
        booking.save(update_fields=[*changes, "updated_at"])
    logger.info(
        "Booking %s now %s/%s",
        booking_id,
        booking.status,
        booking.payment_status,
        extra={"booking_id": booking_id},
    )
    return booking


# The fast path's move, checked against the tables once at import.
_AWAITING = (Status.PENDING_PAYMENT, Booking.PaymentStatus.UNPAID)
_CONFIRMED = (Status.CONFIRMED, Booking.PaymentStatus.PAID)
assert Booking.can_transition(_AWAITING[0], _CONFIRMED[0])  # noqa: S101
assert Booking.can_transition_payment(_AWAITING[1], _CONFIRMED[1])  # noqa: S101


def booking_confirm_if_awaiting_payment(*, booking_id: int) -> bool:
    """pending_payment + unpaid -> confirmed + paid in one guarded UPDATE.

    The common case of a payment arriving, without a locking read: the
    WHERE clause is the transition's guard (an allowed move in both
    tables). False when the booking is in any other state; the caller then
    takes ``booking_transition``'s locked path.
    """
    updated = update_rows(
        Booking,
        {"id": booking_id, "status": _AWAITING[0], "payment_status": _AWAITING[1]},
        {
            "status": _CONFIRMED[0],
            "payment_status": _CONFIRMED[1],
            "updated_at": timezone.now(),
        },
    )
    if updated:
        logger.info(
            "Booking %s now confirmed/paid",
            booking_id,
            extra={"booking_id": booking_id},
        )
    return bool(updated)


def expire_stale_holds(*, advocate_id: int, start: datetime, end: datetime) -> None:
    """Expire pending bookings overlapping [start, end) whose hold ran out.

    They no longer hold the slot, but the database constraints still see
    them until the periodic task runs.
    """
    stale = Booking.objects.filter(
        advocate_id=advocate_id,
        status=Status.PENDING_PAYMENT,
        expires_at__lte=timezone.now(),
        start__lt=end,
        end__gt=start,
    ).values_list("pk", flat=True)
    for booking_id in stale:
        booking_transition(booking_id=booking_id, status=Status.EXPIRED)
