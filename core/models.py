"""Abstract models every app's models may build on. No tables of their own."""

from django.db import models


class TimeStampedModel(models.Model):
    """``created_at`` (set on insert) and ``updated_at`` (set on every save;
    list it in ``update_fields``)."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
