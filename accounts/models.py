"""What a client account holds beyond Django's ``User``."""

from django.conf import settings
from django.db import models

from core.fields import EncryptedTextField
from core.models import TimeStampedModel


class ClientProfile(TimeStampedModel):
    """One per user, made on first need: the full name as typed (one field,
    not first/last) and the default M-Pesa phone the checkout pre-fills."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="client_profile",
    )
    full_name = models.CharField(max_length=150, blank=True)
    # An MSISDN (2547XXXXXXXX / 2541XXXXXXXX), normalised, or empty;
    # encrypted at rest (core.crypto), never searched.
    phone_number = EncryptedTextField(blank=True)

    class Meta:
        ordering = ("user_id",)

    def __str__(self) -> str:
        return f"profile of user {self.user_id}"
