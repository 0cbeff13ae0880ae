"""Reads of advocates, their free slots and bookings. Nothing here writes."""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import FieldDoesNotExist
from django.db.models import CharField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.utils import timezone

from bookings.availability import free_slots, local_day_bounds, slot_grid
from bookings.exceptions import (
    AdvocateNotFound,
    BookingNotFound,
    ConsultationNotOffered,
    SlotInPast,
    SlotTooFarAhead,
)
from bookings.models import Advocate, Booking, ConsultationType
from bookings.references import booking_reference_normalise
from core.time import NAIROBI


def advocate_list_active() -> QuerySet[Advocate]:
    """Active advocates with their practice areas and active offers."""
    offers = ConsultationType.objects.filter(active=True).order_by("code", "duration")
    return Advocate.objects.filter(active=True).prefetch_related(
        "practice_areas", Prefetch("consultation_types", queryset=offers)
    )


def advocate_get_active(*, advocate_id: int) -> Advocate:
    """The active advocate ``advocate_id``. Raises ``AdvocateNotFound``."""
    advocate = Advocate.objects.filter(pk=advocate_id, active=True).first()
    if advocate is None:
        raise AdvocateNotFound()
    return advocate


def consultation_type_get(
    *, advocate: Advocate, code: str, duration: int
) -> ConsultationType:
    """The advocate's active offer. Raises ``ConsultationNotOffered``."""
    offer = advocate.consultation_types.filter(
        code=code, duration=duration, active=True
    ).first()
    if offer is None:
        raise ConsultationNotOffered(
            f"{advocate.name} does not offer a {duration}-minute '{code}' "
            "consultation.",
            field="consultation_type",
        )
    return offer


def booking_assert_day_bookable(*, day: date, now: datetime | None = None) -> None:
    """Raise unless ``day`` lies from today to ``BOOKING_MAX_DAYS_AHEAD``
    days ahead (Africa/Nairobi).

    Checked before any arithmetic on the day: dates near the years 1 and
    9999 would overflow it. Raises ``SlotInPast`` or ``SlotTooFarAhead``,
    both on the field ``date``.
    """
    today = timezone.localtime(now or timezone.now(), NAIROBI).date()
    days_ahead = settings.BOOKING_MAX_DAYS_AHEAD
    if day < today:
        raise SlotInPast("This day has already passed.", field="date")
    if (day - today).days > days_ahead:
        last = today + timedelta(days=days_ahead)
        raise SlotTooFarAhead(
            f"Bookings open {days_ahead} days ahead; pick a day up to {last}.",
            field="date",
        )


def booking_count_unpaid_holds(*, client_id: int, now: datetime) -> int:
    """How many unpaid bookings of the client still hold their slot."""
    return Booking.objects.filter(
        client_id=client_id,
        status=Booking.Status.PENDING_PAYMENT,
        expires_at__gt=now,
    ).count()


def advocate_slot_grid(
    *, advocate: Advocate, day: date, duration: int
) -> list[datetime]:
    """Every start the advocate's hours allow on ``day`` (none on a day off).

    Ignores bookings and the clock; see ``advocate_slot_list`` for those.
    """
    if advocate.days_off.filter(date=day).exists():
        return []
    windows = advocate.availability.filter(weekday=day.weekday()).values_list(
        "start_time", "end_time"
    )
    return slot_grid(day=day, windows=windows, duration=duration)


def booking_holding_overlaps(
    *, advocate_id: int, start: datetime, end: datetime, now: datetime
) -> QuerySet[Booking]:
    """Bookings that hold time within [start, end) of this advocate.

    Confirmed bookings, and pending ones whose payment hold has not run out;
    a pending booking past ``expires_at`` no longer holds its slot, even
    before the expiry task has marked it expired.
    """
    live_hold = Q(status=Booking.Status.CONFIRMED) | Q(
        status=Booking.Status.PENDING_PAYMENT, expires_at__gt=now
    )
    return Booking.objects.filter(
        live_hold, advocate_id=advocate_id, start__lt=end, end__gt=start
    )


def booking_would_take_payment(
    booking: Booking, *, now: datetime | None = None
) -> bool:
    """Whether money for this booking would confirm it now
    (``booking_mark_paid``): unpaid and pending payment with its hold
    running, or, its hold run out (pending or expired), its slot still
    ahead and held by nobody else. A plain read, for answers given before
    the money moves (the Paybill validation)."""
    if booking.payment_status != Booking.PaymentStatus.UNPAID:
        return False
    now = now or timezone.now()
    if booking.status == Booking.Status.PENDING_PAYMENT and booking.expires_at > now:
        return True
    if booking.status not in (Booking.Status.PENDING_PAYMENT, Booking.Status.EXPIRED):
        return False
    if booking.start <= now:
        return False
    others = booking_holding_overlaps(
        advocate_id=booking.advocate_id,
        start=booking.start,
        end=booking.end,
        now=now,
    ).exclude(pk=booking.pk)
    return not others.exists()


def advocate_slot_list(
    *,
    advocate_id: int,
    day: date,
    consultation_type_code: str,
    duration: int,
    now: datetime | None = None,
) -> list[datetime]:
    """Free start times on ``day`` (Africa/Nairobi) for this offer.

    Raises ``AdvocateNotFound``, ``ConsultationNotOffered``, and
    ``SlotInPast`` or ``SlotTooFarAhead`` for a day outside the window.
    """
    now = now or timezone.now()
    advocate = advocate_get_active(advocate_id=advocate_id)
    booking_assert_day_bookable(day=day, now=now)
    consultation_type_get(
        advocate=advocate, code=consultation_type_code, duration=duration
    )
    grid = advocate_slot_grid(advocate=advocate, day=day, duration=duration)
    if not grid:
        return []
    day_start, day_end = local_day_bounds(day)
    busy = booking_holding_overlaps(
        advocate_id=advocate_id, start=day_start, end=day_end, now=now
    ).values_list("start", "end")
    return free_slots(grid=grid, busy=busy, duration=duration, now=now)


def _with_latest_payment(queryset: QuerySet[Booking]) -> QuerySet[Booking]:
    """Annotate the latest payment's status and receipt (two subqueries).

    Goes through the reverse relation ``payments`` so that bookings never
    imports the payments app; without it, both annotations are NULL.
    """
    try:
        relation = Booking._meta.get_field("payments")
    except FieldDoesNotExist:
        none = Value(None, output_field=CharField())
        return queryset.annotate(
            latest_payment_status=none, latest_payment_receipt=none
        )
    latest = relation.related_model._default_manager.filter(
        **{relation.field.name: OuterRef("pk")}
    ).order_by("-created_at", "-pk")
    return queryset.annotate(
        latest_payment_status=Subquery(latest.values("status")[:1]),
        latest_payment_receipt=Subquery(latest.values("mpesa_receipt_number")[:1]),
    )


# ``MpesaReceipt.Allocation.ALLOCATED``, named here so that bookings never
# imports the payments app.
_ALLOCATED = "allocated"


def _with_paid_receipt(queryset: QuerySet[Booking]) -> QuerySet[Booking]:
    """Annotate the M-Pesa receipt allocated to the booking, whatever the
    channel (STK, Paybill, staff): ``paid_receipt_number`` and
    ``paid_receipt_channel`` (two subqueries, NULL without one).

    Goes through the ledger's reverse relation ``receipts``, like
    ``_with_latest_payment``; without the ledger both are NULL.
    """
    try:
        relation = Booking._meta.get_field("receipts")
    except FieldDoesNotExist:
        none = Value(None, output_field=CharField())
        return queryset.annotate(paid_receipt_number=none, paid_receipt_channel=none)
    allocated = relation.related_model._default_manager.filter(
        **{relation.field.name: OuterRef("pk"), "allocation": _ALLOCATED}
    ).order_by("created_at", "pk")
    return queryset.annotate(
        paid_receipt_number=Subquery(allocated.values("receipt_number")[:1]),
        paid_receipt_channel=Subquery(allocated.values("channel")[:1]),
    )


VIEW_ANY_BOOKING = "bookings.view_booking"
CHANGE_ANY_BOOKING = "bookings.change_booking"


def sees_every_booking(user: AbstractBaseUser) -> bool:
    """Whether ``user`` may read other clients' bookings: the view or the
    change permission (change implies view, as in the admin)."""
    return user.has_perm(VIEW_ANY_BOOKING) or user.has_perm(CHANGE_ANY_BOOKING)


def booking_list_for_user(*, user: AbstractBaseUser) -> QuerySet[Booking]:
    """The user's own bookings, newest first; every booking for a user with
    ``bookings.view_booking`` or ``change_booking`` (``is_staff`` alone
    grants nothing).

    Each carries ``latest_payment_status``, ``latest_payment_receipt``,
    ``paid_receipt_number`` and ``paid_receipt_channel``.
    """
    queryset = Booking.objects.select_related("advocate")
    if not sees_every_booking(user):
        queryset = queryset.filter(client=user)
    return _with_paid_receipt(_with_latest_payment(queryset))


def booking_get_for_user(*, booking_id: int, user: AbstractBaseUser) -> Booking:
    """The booking if ``user`` owns it or has ``bookings.view_booking``.

    Raises ``BookingNotFound`` otherwise, so that other clients' bookings
    are indistinguishable from missing ones.
    """
    booking = booking_list_for_user(user=user).filter(pk=booking_id).first()
    if booking is None:
        raise BookingNotFound()
    return booking


def booking_get_to_pay(*, booking_id: int, user: AbstractBaseUser) -> Booking:
    """The booking ``user`` may pay, without the list's annotations: one
    indexed read on the push path. Only the booking's client pays it: no
    permission, staff flag or superuser prompts someone else's phone.

    Raises ``BookingNotFound`` otherwise, like ``booking_get_for_user``.
    """
    try:
        booking = Booking.objects.get(pk=booking_id)
    except Booking.DoesNotExist:
        raise BookingNotFound() from None
    if booking.client_id != user.pk:
        raise BookingNotFound()
    return booking


def booking_find_by_reference(*, typed: str) -> Booking | None:
    """The booking whose ``reference`` ``typed`` spells (a Paybill account
    number: any case, spaces or dashes), or None. One indexed read."""
    reference = booking_reference_normalise(typed)
    if reference is None:
        return None
    return Booking.objects.filter(reference=reference).first()
