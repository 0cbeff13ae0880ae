"""Advocates, what they offer and when, and the bookings clients make.

All wall-clock times (weekly availability, dates off) are Africa/Nairobi;
``Booking.start``/``end`` are aware datetimes. Only ``bookings.services``
writes bookings; the allowed status transitions are data here.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from bookings.references import BOOKING_REFERENCE_LENGTH, booking_reference_new
from core.models import TimeStampedModel
from core.money import format_kes


class PracticeArea(TimeStampedModel):
    """A field of law an advocate practises (family, land, employment...)."""

    name = models.CharField(max_length=80, unique=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Advocate(TimeStampedModel):
    """A lawyer clients can book; only ``active`` ones are listed."""

    name = models.CharField(max_length=120)
    practice_areas = models.ManyToManyField(
        PracticeArea, related_name="advocates", blank=True
    )
    bio = models.TextField(blank=True, default="")
    # Where the advocate's notices of new bookings go (none when empty).
    email = models.EmailField(blank=True, default="")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ("name", "id")

    def __str__(self) -> str:
        return self.name


class ConsultationKind(models.TextChoices):
    VIDEO = "video", "Video consultation"
    PHONE = "phone", "Phone consultation"
    IN_PERSON = "in_person", "In-person consultation"


class ConsultationType(TimeStampedModel):
    """One offer of an advocate: a kind and a duration at a price (whole KES)."""

    advocate = models.ForeignKey(
        Advocate, on_delete=models.CASCADE, related_name="consultation_types"
    )
    code = models.CharField(max_length=16, choices=ConsultationKind.choices)
    duration = models.PositiveSmallIntegerField(help_text="Minutes.")
    price = models.PositiveIntegerField(help_text="Whole KES.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ("advocate", "code", "duration")
        constraints = [
            models.UniqueConstraint(
                fields=["advocate", "code", "duration"],
                name="consultation_type_unique_per_advocate",
            ),
            models.CheckConstraint(
                condition=Q(code__in=ConsultationKind.values),
                name="consultation_type_code_valid",
            ),
            models.CheckConstraint(
                condition=Q(price__gte=1), name="consultation_type_price_gte_1"
            ),
            models.CheckConstraint(
                condition=Q(duration__gte=5, duration__lte=480),
                name="consultation_type_duration_range",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_code_display()} {self.duration} min, {format_kes(self.price)}"
        )

    @property
    def name(self) -> str:
        return self.get_code_display()


class Weekday(models.IntegerChoices):
    """Python's ``date.weekday()`` numbering."""

    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class WeeklyAvailability(TimeStampedModel):
    """A recurring window (Africa/Nairobi wall clock) an advocate works in."""

    advocate = models.ForeignKey(
        Advocate, on_delete=models.CASCADE, related_name="availability"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ("advocate", "weekday", "start_time")
        verbose_name_plural = "weekly availability"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")),
                name="availability_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(weekday__lte=6), name="availability_weekday_valid"
            ),
        ]

    def __str__(self) -> str:
        hours = f"{self.start_time:%H:%M}-{self.end_time:%H:%M}"
        return f"{self.get_weekday_display()} {hours}"


class DayOff(TimeStampedModel):
    """A date (Africa/Nairobi) on which the advocate takes no bookings."""

    advocate = models.ForeignKey(
        Advocate, on_delete=models.CASCADE, related_name="days_off"
    )
    date = models.DateField()
    reason = models.CharField(max_length=120, blank=True, default="")

    class Meta:
        ordering = ("advocate", "date")
        verbose_name_plural = "days off"
        constraints = [
            models.UniqueConstraint(
                fields=["advocate", "date"], name="day_off_unique_per_advocate"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.advocate} off on {self.date}"


class BookingStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", "Pending payment"
    CONFIRMED = "confirmed", "Confirmed"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"
    NO_SHOW = "no_show", "No show"


class BookingPaymentStatus(models.TextChoices):
    UNPAID = "unpaid", "Unpaid"
    PAID = "paid", "Paid"
    REFUND_DUE = "refund_due", "Refund due"
    REFUNDED = "refunded", "Refunded"


# Bookings in these statuses hold their time slot: the unique constraint of
# ``Booking`` is built from this list, and the PostgreSQL exclusion constraint
# of migration 0002 spells the same two values. Module level so that
# ``Booking.Meta`` can use it.
BOOKING_HOLDING_STATUSES = (BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED)


class Booking(TimeStampedModel):
    """A client's consultation with an advocate, held while it is paid."""

    Status = BookingStatus
    PaymentStatus = BookingPaymentStatus

    HOLDING_STATUSES = BOOKING_HOLDING_STATUSES

    # An expired booking is confirmed again when a late payment arrives
    # and its slot is still free (see services.booking_mark_paid).
    ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PENDING_PAYMENT: frozenset(
            {Status.CONFIRMED, Status.CANCELLED, Status.EXPIRED}
        ),
        Status.EXPIRED: frozenset({Status.CONFIRMED}),
        Status.CONFIRMED: frozenset(
            {Status.COMPLETED, Status.CANCELLED, Status.NO_SHOW}
        ),
        Status.COMPLETED: frozenset(),
        Status.CANCELLED: frozenset(),
        Status.NO_SHOW: frozenset(),
    }
    ALLOWED_PAYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
        PaymentStatus.UNPAID: frozenset({PaymentStatus.PAID, PaymentStatus.REFUND_DUE}),
        PaymentStatus.PAID: frozenset({PaymentStatus.REFUND_DUE}),
        PaymentStatus.REFUND_DUE: frozenset({PaymentStatus.REFUNDED}),
        PaymentStatus.REFUNDED: frozenset(),
    }

    # What the client types as the Paybill account number and what the STK
    # prompt shows (AccountReference); see bookings.references.
    reference = models.CharField(
        max_length=BOOKING_REFERENCE_LENGTH,
        unique=True,
        editable=False,
        default=booking_reference_new,
        help_text="HY + 6 characters without 0/O/1/I/L; the M-Pesa account number.",
    )
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings"
    )
    advocate = models.ForeignKey(
        Advocate, on_delete=models.PROTECT, related_name="bookings"
    )
    consultation_type = models.CharField(
        max_length=16, choices=ConsultationKind.choices
    )
    duration = models.PositiveSmallIntegerField(help_text="Minutes.")
    start = models.DateTimeField()
    # Stored (start + duration) so the database can constrain overlaps.
    end = models.DateTimeField()
    amount = models.PositiveIntegerField(
        help_text="Whole KES, copied from the advocate's price when booked."
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING_PAYMENT
    )
    payment_status = models.CharField(
        max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID
    )
    expires_at = models.DateTimeField(
        help_text="End of the payment hold while pending payment."
    )
    cancelled_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was cancelled (refund policy)."
    )

    class Meta:
        ordering = ("-start", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=1), name="booking_amount_gte_1"
            ),
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="booking_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(status__in=BookingStatus.values),
                name="booking_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(payment_status__in=BookingPaymentStatus.values),
                name="booking_payment_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(consultation_type__in=ConsultationKind.values),
                name="booking_consultation_type_valid",
            ),
            # Portable part of "no double booking" (SQLite has no exclusion
            # constraints); PostgreSQL also gets bookings_booking_no_overlap
            # from migration 0002, which catches any overlap, not only the
            # same start.
            models.UniqueConstraint(
                fields=["advocate", "start"],
                condition=Q(status__in=[s.value for s in BOOKING_HOLDING_STATUSES]),
                name="booking_one_holding_per_advocate_start",
            ),
        ]
        indexes = [
            models.Index(fields=["advocate", "start"], name="booking_advocate_start"),
            models.Index(fields=["status", "expires_at"], name="booking_status_expiry"),
        ]

    def __str__(self) -> str:
        return f"Booking {self.pk} ({self.status}, {format_kes(self.amount)})"

    @classmethod
    def can_transition(cls, from_status: str, to_status: str) -> bool:
        return to_status in cls.ALLOWED_TRANSITIONS.get(from_status, frozenset())

    @classmethod
    def can_transition_payment(cls, from_status: str, to_status: str) -> bool:
        allowed = cls.ALLOWED_PAYMENT_TRANSITIONS.get(from_status, frozenset())
        return to_status in allowed
