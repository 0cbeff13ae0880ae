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
    # The account's e-mail lower-cased, kept by the account services: one
    # client account per address, decided by this unique row when two
    # sign-ups (or profile changes) name one address at the same moment.
    email_key = models.CharField(max_length=254, blank=True, default="", editable=False)

    class Meta:
        ordering = ("user_id",)
        constraints = [
            models.UniqueConstraint(
                fields=["email_key"],
                condition=~models.Q(email_key=""),
                name="client_profile_one_account_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"profile of user {self.user_id}"
