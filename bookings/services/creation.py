"""Booking a slot: checks, pricing and the payment hold."""

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings.exceptions import (
    SlotInPast,
    SlotNotAvailable,
    SlotTaken,
    TooManyUnpaidBookings,
    UnknownAdvocate,
)
from bookings.models import Advocate, Booking
from bookings.references import booking_reference_new
from bookings.selectors import (
    advocate_slot_grid,
    booking_assert_day_bookable,
    booking_count_unpaid_holds,
    booking_holding_overlaps,
    consultation_type_get,
)
from bookings.services.transitions import expire_stale_holds
from core.time import NAIROBI

logger = logging.getLogger(__name__)


def _hold_until() -> datetime:
    return timezone.now() + timedelta(minutes=settings.BOOKING_HOLD_MINUTES)


def _local_day(start: datetime) -> date:
    try:
        return timezone.localtime(start, NAIROBI).date()
    except OverflowError:
        raise SlotNotAvailable("This day cannot be booked.", field="date") from None


def _check_unpaid_holds(*, client: AbstractBaseUser, now: datetime) -> None:
    """Raise ``TooManyUnpaidBookings`` at ``BOOKING_MAX_UNPAID_HOLDS``.

    Locks the client's user row first, so two bookings of one client are
    counted one after the other (else both would see one hold and pass).
    """
    get_user_model().objects.select_for_update().filter(pk=client.pk).first()
    held = booking_count_unpaid_holds(client_id=client.pk, now=now)
    if held >= settings.BOOKING_MAX_UNPAID_HOLDS:
        raise TooManyUnpaidBookings()


def _check_slot(*, advocate: Advocate, start: datetime, duration: int) -> None:
    """Raise ``SlotInPast`` or ``SlotNotAvailable`` unless ``start`` is bookable."""
    if start <= timezone.now():
        raise SlotInPast(field="time")
    local_start = timezone.localtime(start, NAIROBI)
    grid = advocate_slot_grid(
        advocate=advocate, day=local_start.date(), duration=duration
    )
    if start not in grid:
        raise SlotNotAvailable(
            f"{advocate.name} does not take bookings at "
            f"{local_start:%Y-%m-%d %H:%M} (Africa/Nairobi); pick a listed slot.",
            field="time",
        )


def booking_reference_unused(*, attempts: int = 5) -> str:
    """A new booking reference no booking has yet.

    A collision is rare (31**6 references); it is retried. Two bookings
    drawing the same unused reference at the same instant would still be
    refused by the unique constraint, never stored twice.
    """
    for _ in range(attempts):
        reference = booking_reference_new()
        if not Booking.objects.filter(reference=reference).exists():
            return reference
    raise RuntimeError(f"No unused booking reference in {attempts} attempts.")


def booking_create(
    *,
    client: AbstractBaseUser,
    advocate_id: int,
    start: datetime,
    consultation_type_code: str,
    duration: int,
) -> Booking:
    """Book a slot and hold it for ``BOOKING_HOLD_MINUTES`` until paid.

    The amount is the advocate's current price for the offer, never the
    client's. Locks the client's user row (its unpaid holds are counted
    one booking at a time), then the advocate row, so bookings of one
    advocate are made one at a time; the database constraints back this up.
    Raises ``SlotTooFarAhead``, ``TooManyUnpaidBookings``,
    ``UnknownAdvocate``, ``ConsultationNotOffered``, ``SlotInPast``,
    ``SlotNotAvailable`` and ``SlotTaken``.
    """
    booking_assert_day_bookable(day=_local_day(start))
    with transaction.atomic():
        _check_unpaid_holds(client=client, now=timezone.now())
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
        expire_stale_holds(advocate_id=advocate.pk, start=start, end=end)
        now = timezone.now()
        if booking_holding_overlaps(
            advocate_id=advocate.pk, start=start, end=end, now=now
        ).exists():
            raise SlotTaken()
        try:
            with transaction.atomic():
                booking = Booking.objects.create(
                    reference=booking_reference_unused(),
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
