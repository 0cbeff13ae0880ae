"""What the payments app calls: payability, holds and successful payments."""

import enum
import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings.exceptions import BookingNotPayable
from bookings.models import Booking
from bookings.selectors import booking_holding_overlaps
from bookings.services.transitions import (
    booking_confirm_if_awaiting_payment,
    booking_transition,
    expire_stale_holds,
)
from core.after_commit import queue_after_commit

logger = logging.getLogger(__name__)

Status = Booking.Status
PAID_NOTICE_TASK = "notices.tasks.notice_booking_paid_task"
PaymentStatus = Booking.PaymentStatus


class BookingPaymentOutcome(enum.StrEnum):
    """What ``booking_mark_paid`` did with a successful payment."""

    CONFIRMED = "confirmed"
    ALREADY_PAID = "already_paid"
    REFUND_DUE = "refund_due"


def booking_assert_payable(*, booking: Booking) -> None:
    """Raise ``BookingNotPayable`` unless the booking awaits payment now.

    That is: pending payment, unpaid, and the hold has not run out.
    """
    if booking.status != Status.PENDING_PAYMENT:
        raise BookingNotPayable(
            f"This booking is {booking.get_status_display().lower()}; "
            "only bookings pending payment can be paid."
        )
    if booking.payment_status != PaymentStatus.UNPAID:
        raise BookingNotPayable("This booking has already been paid.")
    if booking.expires_at <= timezone.now():
        raise BookingNotPayable(
            "The hold on this slot has run out; book the slot again."
        )


def booking_extend_hold(*, booking_id: int, until: datetime) -> None:
    """Push the payment hold to ``until`` while the booking awaits payment.

    Never shortens a hold; does nothing unless the booking is pending
    payment (so an open STK prompt does not lose its slot).
    """
    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=booking_id)
        if booking.status != Status.PENDING_PAYMENT or booking.expires_at >= until:
            return
        booking.expires_at = until
        booking.save(update_fields=["expires_at", "updated_at"])
    logger.info(
        "Booking %s hold extended to %s",
        booking_id,
        until.isoformat(),
        extra={"booking_id": booking_id},
    )


def _slot_still_free(*, booking: Booking) -> bool:
    """Whether nothing else holds the booking's time and it is still ahead."""
    if booking.start <= timezone.now():
        return False
    expire_stale_holds(
        advocate_id=booking.advocate_id, start=booking.start, end=booking.end
    )
    others = booking_holding_overlaps(
        advocate_id=booking.advocate_id,
        start=booking.start,
        end=booking.end,
        now=timezone.now(),
    ).exclude(pk=booking.pk)
    return not others.exists()


def _reconfirm_expired(*, booking: Booking) -> bool:
    """Confirm an expired booking whose slot is still free; False otherwise."""
    if not _slot_still_free(booking=booking):
        return False
    try:
        booking_transition(
            booking_id=booking.pk,
            status=Status.CONFIRMED,
            payment_status=PaymentStatus.PAID,
        )
    except IntegrityError:
        # Someone booked the slot concurrently; the constraint caught it and
        # the transition's savepoint was rolled back.
        return False
    return True


def booking_mark_paid(*, booking_id: int) -> BookingPaymentOutcome:
    """Record a successful payment; call inside the payment's transaction.

    CONFIRMED: the booking was pending payment (or expired with its slot
    still free) and is now confirmed and paid. ALREADY_PAID: another
    payment paid it; nothing changes. REFUND_DUE: it cannot be confirmed
    (cancelled, done, or expired with the slot gone), so its payment
    status becomes refund_due. Never raises for these cases.
    """
    outcome = _mark_paid(booking_id=booking_id)
    if outcome == BookingPaymentOutcome.CONFIRMED:
        # The client's and the advocate's notices, once this commits.
        queue_after_commit(PAID_NOTICE_TASK, booking_id)
    return outcome


def _mark_paid(*, booking_id: int) -> BookingPaymentOutcome:
    if booking_confirm_if_awaiting_payment(booking_id=booking_id):
        return BookingPaymentOutcome.CONFIRMED
    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=booking_id)
        if booking.payment_status == PaymentStatus.PAID:
            return BookingPaymentOutcome.ALREADY_PAID
        if booking.payment_status == PaymentStatus.UNPAID:
            if booking.status in Booking.HOLDING_STATUSES:
                booking_transition(
                    booking_id=booking_id,
                    status=Status.CONFIRMED,
                    payment_status=PaymentStatus.PAID,
                )
                return BookingPaymentOutcome.CONFIRMED
            if booking.status == Status.EXPIRED and _reconfirm_expired(booking=booking):
                return BookingPaymentOutcome.CONFIRMED
            booking_transition(
                booking_id=booking_id, payment_status=PaymentStatus.REFUND_DUE
            )
    # refund_due or refunded already, or just set: this money goes back too.
    logger.warning(
        "Payment for booking %s cannot confirm it; refund due",
        booking_id,
        extra={"booking_id": booking_id},
    )
    return BookingPaymentOutcome.REFUND_DUE
