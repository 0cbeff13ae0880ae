"""Which alert conditions are active, so each alerts once when it starts
and once when it clears, however many processes check."""

from django.db import models

from core.models import TimeStampedModel


class AlertState(TimeStampedModel):
    """One alert condition: active or not, since when, last notice sent."""

    name = models.CharField(max_length=64, unique=True)
    active = models.BooleanField(default=False)
    since = models.DateTimeField(null=True, blank=True)
    detail = models.TextField(blank=True, default="")
    last_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return f"{self.name} ({'active' if self.active else 'clear'})"
