"""One message to one person about one event, sent at most once."""

from django.db import models

from core.fields import EncryptedTextField
from core.models import TimeStampedModel


class Notice(TimeStampedModel):
    """A rendered e-mail or SMS and whether it went out.

    ``dedupe_key`` (``<kind>:<channel>:<object>:<id>``) is unique, so a
    duplicate event (a repeated callback, a retried task) inserts nothing.
    Subject and body are rendered when the event is queued: a retry sends
    exactly the text the event produced, and staff see what was sent.
    """

    class Kind(models.TextChoices):
        BOOKING_PAID_CLIENT = "booking_paid_client", "Booking paid (client)"
        BOOKING_PAID_ADVOCATE = "booking_paid_advocate", "New booking (advocate)"
        PAYMENT_FAILED_CLIENT = "payment_failed_client", "Payment failed (client)"
        REFUND_COMPLETED_CLIENT = (
            "refund_completed_client",
            "Refund completed (client)",
        )

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        SMS = "sms", "SMS"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # An e-mail address or a phone number: encrypted at rest like every
    # stored phone number (docs/personal-data.md).
    recipient = EncryptedTextField()
    subject = models.CharField(max_length=200, blank=True, default="")
    body_text = models.TextField()
    body_html = models.TextField(blank=True, default="")
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    dedupe_key = models.CharField(max_length=120, unique=True)
    booking = models.ForeignKey(
        "bookings.Booking",
        on_delete=models.PROTECT,
        related_name="notices",
        null=True,
        blank=True,
    )

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "sent", "failed"]),
                name="notice_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} by {self.channel} ({self.status})"
