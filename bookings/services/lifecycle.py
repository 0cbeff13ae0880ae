"""Cancelling, expiring and closing bookings."""

import logging

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from bookings.exceptions import (
    BookingChangeNotAllowed,
    BookingNotCancellable,
    BookingNotFound,
)
from bookings.models import Booking
from bookings.selectors import CHANGE_ANY_BOOKING, sees_every_booking
from bookings.services.transitions import booking_transition

logger = logging.getLogger(__name__)

Status = Booking.Status
PaymentStatus = Booking.PaymentStatus


def booking_cancel(*, booking_id: int, actor: AbstractBaseUser) -> Booking:
    """Cancel a booking as its client or with ``bookings.change_booking``.

    An unpaid booking is simply cancelled; a paid one becomes cancelled
    with ``refund_due``. Raises ``BookingNotFound`` (not the actor's and
    not visible to them), ``BookingChangeNotAllowed`` (visible through
    ``view_booking`` but no ``change_booking``), ``BookingNotCancellable``
    (already started) and ``InvalidBookingTransition`` (completed,
    expired...).
    """
    with transaction.atomic():
        booking = Booking.objects.select_for_update().filter(pk=booking_id).first()
        if booking is None:
            raise BookingNotFound()
        _check_may_change(actor, booking)
        if booking.status == Status.CONFIRMED and booking.start <= timezone.now():
            raise BookingNotCancellable(
                "This consultation has already started and cannot be cancelled."
            )
        payment_status = (
            PaymentStatus.REFUND_DUE
            if booking.payment_status == PaymentStatus.PAID
            else None
        )
        return booking_transition(
            booking_id=booking_id,
            status=Status.CANCELLED,
            payment_status=payment_status,
            cancelled_at=timezone.now(),
        )


def _check_may_change(actor: AbstractBaseUser, booking: Booking) -> None:
    """Its client, or a user with the change permission (``is_staff``
    alone grants nothing)."""
    if booking.client_id == actor.pk or actor.has_perm(CHANGE_ANY_BOOKING):
        return
    if sees_every_booking(actor):
        raise BookingChangeNotAllowed()
    raise BookingNotFound()


def booking_expire_holds() -> int:
    """Expire pending bookings whose hold ran out, freeing their slots.

    Re-checks each under its lock, since a payment may have just extended
    the hold or confirmed the booking. Returns how many were expired.
    """
    candidates = Booking.objects.filter(
        status=Status.PENDING_PAYMENT, expires_at__lt=timezone.now()
    ).values_list("pk", flat=True)
    expired = 0
    for booking_id in list(candidates):
        with transaction.atomic():
            booking = Booking.objects.select_for_update().get(pk=booking_id)
            if (
                booking.status != Status.PENDING_PAYMENT
                or booking.expires_at >= timezone.now()
            ):
                continue
            booking_transition(booking_id=booking_id, status=Status.EXPIRED)
            expired += 1
    return expired


def booking_mark_completed(*, booking_id: int) -> Booking:
    """Staff: the consultation took place. Raises ``InvalidBookingTransition``."""
    return booking_transition(booking_id=booking_id, status=Status.COMPLETED)


def booking_mark_no_show(*, booking_id: int) -> Booking:
    """Staff: the client did not attend. Raises ``InvalidBookingTransition``."""
    return booking_transition(booking_id=booking_id, status=Status.NO_SHOW)


def booking_mark_refunded(*, booking_id: int) -> Booking:
    """Staff: the refund due has been paid out. Raises ``InvalidBookingTransition``."""
    return booking_transition(
        booking_id=booking_id, payment_status=PaymentStatus.REFUNDED
    )
