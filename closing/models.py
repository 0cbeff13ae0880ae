"""The daily close: a Finance user's sign-off of one Nairobi day.

``DailyClose`` is one row per day (``day`` unique), with who closed it,
when, and the figures as they were then (``snapshot``, the JSON of
``closing.services.figures.day_figures``), so a later change to that day
shows as a warning. Only ``closing.services.closing`` writes it.
"""

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel


class DailyClose(TimeStampedModel):
    """One closed Nairobi day and its figures at the close."""

    day = models.DateField(unique=True, help_text="The Nairobi day closed.")
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField()
    snapshot = models.JSONField(help_text="The day's figures when it was closed.")

    class Meta:
        ordering = ("-day",)
        verbose_name = "daily close"
        verbose_name_plural = "daily closes"
        permissions = [("close_day", "Can close a day's books")]

    def __str__(self) -> str:
        return f"Day {self.day.isoformat()} closed"
