"""The M-Pesa receipts ledger: one row per transaction we know of.

``MpesaReceipt`` is money on our shortcode, whatever told us of it (an STK
callback, later a C2B confirmation, a statement line, staff); each time a
source reports it is one ``MpesaReceiptSighting`` linked to the raw event,
so a receipt reported twice is one row with two sightings and its money is
counted once. Only ``payments.services.ledger`` writes these models.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.fields import EncryptedTextField, IndexedPhonesMixin, PhoneIndexField
from core.models import TimeStampedModel


class MpesaReceipt(IndexedPhonesMixin, TimeStampedModel):
    """One M-Pesa transaction on our shortcode (``receipt_number`` unique)."""

    class Direction(models.TextChoices):
        IN = "in", "Money in"
        OUT = "out", "Money out"

    class Channel(models.TextChoices):
        STK = "stk", "STK Push"
        PAYBILL = "paybill", "Paybill"
        TILL = "till", "Till"
        REVERSAL = "reversal", "Reversal"
        B2C = "b2c", "B2C"

    class Allocation(models.TextChoices):
        ALLOCATED = "allocated", "Allocated"
        UNALLOCATED = "unallocated", "Unallocated"
        REFUNDED = "refunded", "Refunded"

    class UnallocatedReason(models.TextChoices):
        UNKNOWN_ACCOUNT = "unknown_account", "Unknown account number"
        UNDERPAID = "underpaid", "Less than owed"
        OVERPAID = "overpaid", "More than owed"
        BOOKING_NOT_PAYABLE = "booking_not_payable", "Booking not payable"
        DUPLICATE_PAYMENT = "duplicate_payment", "Booking already paid"
        UNKNOWN_PAYMENT = "unknown_payment", "No payment of ours"

    receipt_number = models.CharField(max_length=20, unique=True)
    direction = models.CharField(
        max_length=3, choices=Direction.choices, default=Direction.IN
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    amount = models.PositiveIntegerField(help_text="Whole KES.")
    account_reference = models.CharField(max_length=64, blank=True, default="")
    payer_phone = EncryptedTextField(
        blank=True,
        default="",
        help_text="As Daraja gave it: full, masked or hashed; shown masked.",
    )
    # Full or hashed payers are found by the index, masked ones by the
    # visible digits (core.crypto).
    payer_phone_index = PhoneIndexField(source="payer_phone", kind="payer")
    payer_phone_masked_key = PhoneIndexField(
        source="payer_phone", kind="visible_mask", max_length=32
    )
    payer_name = models.CharField(max_length=128, blank=True, default="")
    transacted_at = models.DateTimeField(null=True, blank=True)
    booking = models.ForeignKey(
        "bookings.Booking",
        on_delete=models.PROTECT,
        related_name="receipts",
        null=True,
        blank=True,
    )
    payment = models.ForeignKey(
        "payments.Payment",
        on_delete=models.PROTECT,
        related_name="receipts",
        null=True,
        blank=True,
    )
    allocation = models.CharField(max_length=12, choices=Allocation.choices)
    unallocated_reason = models.CharField(
        max_length=24, choices=UnallocatedReason.choices, blank=True, default=""
    )
    # Staff's "Mark for refund" on unallocated money (the refunds issue
    # picks these up); the allocation stays until the money goes back.
    refund_marked_at = models.DateTimeField(null=True, blank=True)
    refund_marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = "M-Pesa receipt"
        verbose_name_plural = "M-Pesa receipts"
        ordering = ("-created_at", "-id")
        indexes = [
            # The "Unallocated money" view and the daily totals.
            models.Index(
                fields=["allocation", "created_at"], name="receipt_allocation_created"
            ),
            models.Index(fields=["transacted_at"], name="receipt_transacted_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(receipt_number__regex=r"^[A-Z0-9]{1,20}$"),
                name="receipt_number_upper_alnum",
            ),
            models.CheckConstraint(
                condition=~Q(allocation="unallocated") | ~Q(unallocated_reason=""),
                name="receipt_unallocated_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.receipt_number} (KES {self.amount:,}, {self.allocation})"


class MpesaReceiptSighting(models.Model):
    """One report of a receipt by one source, linked to its raw event."""

    class Source(models.TextChoices):
        STK_CALLBACK = "stk_callback", "STK callback"
        C2B_CONFIRMATION = "c2b_confirmation", "C2B confirmation"
        STAFF = "staff", "Staff"
        STATEMENT = "statement", "Statement"
        PULL = "pull", "Pull Transactions"
        TRANSACTION_STATUS = "transaction_status", "Transaction Status"
        DARAJA_RESULT = "daraja_result", "Reversal or B2C result"

    receipt = models.ForeignKey(
        MpesaReceipt, on_delete=models.PROTECT, related_name="sightings"
    )
    source = models.CharField(max_length=24, choices=Source.choices)
    event = models.ForeignKey(
        "payments.PaymentEvent",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"{self.get_source_display()} of {self.receipt_id}"


class UnallocatedReceipt(MpesaReceipt):
    """The admin's "Unallocated money" entry: the same rows, no table of its
    own (``payments.admin.receipts`` lists only unallocated ones)."""

    class Meta:
        proxy = True
        verbose_name = "unallocated money"
        verbose_name_plural = "unallocated money"
