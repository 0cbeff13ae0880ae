"""The only writer of bookings: creation, holds and every status change.

Every change of ``status`` or ``payment_status`` goes through
``_booking_transition``, which locks the row and checks
``Booking.ALLOWED_TRANSITIONS``/``ALLOWED_PAYMENT_TRANSITIONS``.
"""

import enum
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings.availability import LOCAL_TZ
from bookings.exceptions import (
    BookingNotCancellable,
    BookingNotFound,
    BookingNotPayable,
    InvalidBookingTransition,
    SlotInPast,
    SlotNotAvailable,
    SlotTaken,
    UnknownAdvocate,
)
from bookings.models import Advocate, Booking
from bookings.selectors import (
    advocate_slot_grid,
    booking_holding_overlaps,
    consultation_type_get,
)

logger = logging.getLogger(__name__)

Status = Booking.Status
PaymentStatus = Booking.PaymentStatus


class BookingPaymentOutcome(enum.StrEnum):
    """What ``booking_mark_paid`` did with a successful payment."""

    CONFIRMED = "confirmed"
    ALREADY_PAID = "already_paid"
    REFUND_DUE = "refund_due"


def _booking_transition(
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


def _expire_stale_holds(*, advocate_id: int, start: datetime, end: datetime) -> None:
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
        _booking_transition(booking_id=booking_id, status=Status.EXPIRED)


def _hold_until() -> datetime:
    return timezone.now() + timedelta(minutes=settings.BOOKING_HOLD_MINUTES)


def _check_slot(*, advocate: Advocate, start: datetime, duration: int) -> None:
    """Raise ``SlotInPast`` or ``SlotNotAvailable`` unless ``start`` is bookable."""
    if start <= timezone.now():
        raise SlotInPast(field="time")
    local_start = timezone.localtime(start, LOCAL_TZ)
    grid = advocate_slot_grid(
        advocate=advocate, day=local_start.date(), duration=duration
    )
    if start not in grid:
        raise SlotNotAvailable(
            f"{advocate.name} does not take bookings at "
            f"{local_start:%Y-%m-%d %H:%M} (Africa/Nairobi); pick a listed slot.",
            field="time",
        )


def booking_create(
    *,
    client,
    advocate_id: int,
    start: datetime,
    consultation_type_code: str,
    duration: int,
) -> Booking:
    """Book a slot and hold it for ``BOOKING_HOLD_MINUTES`` until paid.

    The amount is the advocate's current price for the offer, never the
    client's. Locks the advocate row, so bookings of one advocate are made
    one at a time; the database constraints back this up.
    Raises ``UnknownAdvocate``, ``ConsultationNotOffered``, ``SlotInPast``,
    ``SlotNotAvailable`` and ``SlotTaken``.
    """
    with transaction.atomic():
        advocate = (
            Advocate.objects.select_for_update()
            .filter(pk=advocate_id, active=True)
            .first()
        )
        if advocate is None:
            raise UnknownAdvocate(field="advocate_id")
        offer = consultation_type_get(
            advocate=advocate, code=consultation_type_code, duration=duration
        )
        _check_slot(advocate=advocate, start=start, duration=duration)
        end = start + timedelta(minutes=duration)
        _expire_stale_holds(advocate_id=advocate.pk, start=start, end=end)
        now = timezone.now()
        if booking_holding_overlaps(
            advocate_id=advocate.pk, start=start, end=end, now=now
        ).exists():
            raise SlotTaken()
        try:
            with transaction.atomic():
                booking = Booking.objects.create(
                    client=client,
                    advocate=advocate,
                    consultation_type=offer.code,
                    duration=duration,
                    start=start,
                    end=end,
                    amount=offer.price,
                    expires_at=_hold_until(),
                )
        except IntegrityError as exc:
            raise SlotTaken() from exc
    logger.info("Booking %s created", booking.pk, extra={"booking_id": booking.pk})
    return booking


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
    _expire_stale_holds(
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
        _booking_transition(
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
    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=booking_id)
        if booking.payment_status == PaymentStatus.PAID:
            return BookingPaymentOutcome.ALREADY_PAID
        if booking.payment_status == PaymentStatus.UNPAID:
            if booking.status in Booking.HOLDING_STATUSES:
                _booking_transition(
                    booking_id=booking_id,
                    status=Status.CONFIRMED,
                    payment_status=PaymentStatus.PAID,
                )
                return BookingPaymentOutcome.CONFIRMED
            if booking.status == Status.EXPIRED and _reconfirm_expired(booking=booking):
                return BookingPaymentOutcome.CONFIRMED
            _booking_transition(
                booking_id=booking_id, payment_status=PaymentStatus.REFUND_DUE
            )
    # refund_due or refunded already, or just set: this money goes back too.
    logger.warning(
        "Payment for booking %s cannot confirm it; refund due",
        booking_id,
        extra={"booking_id": booking_id},
    )
    return BookingPaymentOutcome.REFUND_DUE


def booking_cancel(*, booking_id: int, actor) -> Booking:
    """Cancel a booking as its client or as staff.

    An unpaid booking is simply cancelled; a paid one becomes cancelled
    with ``refund_due``. Raises ``BookingNotFound`` (not the actor's),
    ``BookingNotCancellable`` (already started) and
    ``InvalidBookingTransition`` (completed, expired...).
    """
    with transaction.atomic():
        booking = Booking.objects.select_for_update().filter(pk=booking_id).first()
        if booking is None or not (actor.is_staff or booking.client_id == actor.pk):
            raise BookingNotFound()
        if booking.status == Status.CONFIRMED and booking.start <= timezone.now():
            raise BookingNotCancellable(
                "This consultation has already started and cannot be cancelled."
            )
        payment_status = (
            PaymentStatus.REFUND_DUE
            if booking.payment_status == PaymentStatus.PAID
            else None
        )
        return _booking_transition(
            booking_id=booking_id,
            status=Status.CANCELLED,
            payment_status=payment_status,
        )


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
            _booking_transition(booking_id=booking_id, status=Status.EXPIRED)
            expired += 1
    return expired


def booking_mark_completed(*, booking_id: int) -> Booking:
    """Staff: the consultation took place. Raises ``InvalidBookingTransition``."""
    return _booking_transition(booking_id=booking_id, status=Status.COMPLETED)


def booking_mark_no_show(*, booking_id: int) -> Booking:
    """Staff: the client did not attend. Raises ``InvalidBookingTransition``."""
    return _booking_transition(booking_id=booking_id, status=Status.NO_SHOW)


def booking_mark_refunded(*, booking_id: int) -> Booking:
    """Staff: the refund due has been paid out. Raises ``InvalidBookingTransition``."""
    return _booking_transition(
        booking_id=booking_id, payment_status=PaymentStatus.REFUNDED
    )
