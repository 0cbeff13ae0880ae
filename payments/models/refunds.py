"""Money going back: refunds and the Transaction Status checks that confirm them.

A ``Refund`` sends (part of) one ledger receipt back to the payer, by a
Reversal of the whole receipt or a B2C payment of part of it. Two people
take part: one requests, another approves (the database refuses the same
user in both roles). It is sent to Daraja once, under its own
``originator_conversation_id``; once sent, only M-Pesa's answer (its
result, or a Transaction Status answer) moves it on. Only
``payments.services.refund_transitions`` changes ``status``.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from core.fields import (
    EncryptedJSONField,
    EncryptedTextField,
    IndexedPhonesMixin,
    PhoneIndexField,
)
from core.models import TimeStampedModel


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    SUBMITTED = "submitted", "Submitted to M-Pesa"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"
    UNKNOWN = "unknown", "Outcome unknown"


# A refund in these statuses holds part of its receipt's amount: the sum
# of a receipt's holding refunds never exceeds the receipt.
REFUND_HOLDING_STATUSES = (
    RefundStatus.REQUESTED,
    RefundStatus.APPROVED,
    RefundStatus.SUBMITTED,
    RefundStatus.UNKNOWN,
    RefundStatus.COMPLETED,
)
# Approved by a second person: every status from approval on.
_APPROVED_STATUSES = (
    RefundStatus.APPROVED,
    RefundStatus.SUBMITTED,
    RefundStatus.UNKNOWN,
    RefundStatus.COMPLETED,
    RefundStatus.FAILED,
)


class Refund(IndexedPhonesMixin, TimeStampedModel):
    """One request to send money of one receipt back to its payer."""

    Status = RefundStatus

    class Method(models.TextChoices):
        REVERSAL = "reversal", "Reversal (whole receipt)"
        B2C = "b2c", "B2C payment (part of the receipt)"

    class Reason(models.TextChoices):
        CANCELLED = "cancelled", "Booking cancelled"
        PAID_TOO_LATE = "paid_too_late", "Paid after the booking ended"
        DUPLICATE_PAYMENT = "duplicate_payment", "Paid twice"
        OVERPAID = "overpaid", "Paid more than owed"
        UNKNOWN_ACCOUNT = "unknown_account", "Money we cannot place"
        GOODWILL = "goodwill", "Goodwill"
        OTHER = "other", "Other"

    # The transition table (``refund_transitions.refund_move`` checks it).
    # submitted -> approved only when the request never reached Daraja
    # (a refused connection); failed only on M-Pesa's word.
    ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
        Status.REQUESTED: frozenset(
            {Status.APPROVED, Status.REJECTED, Status.CANCELLED}
        ),
        Status.APPROVED: frozenset({Status.SUBMITTED}),
        Status.SUBMITTED: frozenset(
            {Status.COMPLETED, Status.FAILED, Status.UNKNOWN, Status.APPROVED}
        ),
        Status.UNKNOWN: frozenset({Status.COMPLETED, Status.FAILED}),
        Status.COMPLETED: frozenset(),
        Status.FAILED: frozenset(),
        Status.REJECTED: frozenset(),
        Status.CANCELLED: frozenset(),
    }
    OPEN_STATUSES = (
        Status.REQUESTED,
        Status.APPROVED,
        Status.SUBMITTED,
        Status.UNKNOWN,
    )

    receipt = models.ForeignKey(
        "payments.MpesaReceipt", on_delete=models.PROTECT, related_name="refunds"
    )
    booking = models.ForeignKey(
        "bookings.Booking",
        on_delete=models.PROTECT,
        related_name="refunds",
        null=True,
        blank=True,
    )
    amount = models.PositiveIntegerField(help_text="Whole KES.")
    method = models.CharField(max_length=10, choices=Method.choices)
    reason = models.CharField(max_length=24, choices=Reason.choices)
    reason_text = models.TextField(blank=True, default="")
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.REQUESTED
    )
    recipient_phone = EncryptedTextField(
        blank=True,
        default="",
        help_text="B2C only: the 2547... number the money goes to; shown masked.",
    )
    recipient_phone_index = PhoneIndexField(source="recipient_phone", kind="phone")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    decision_note = models.TextField(blank=True, default="")
    # Ours: the idempotency key sent to Daraja, once, with this refund.
    originator_conversation_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False
    )
    # What Daraja's acknowledgement said (its OriginatorConversationID may
    # differ from ours on APIs that ignore the one we send).
    daraja_originator_conversation_id = models.CharField(
        max_length=64, blank=True, default="", db_index=True
    )
    conversation_id = models.CharField(
        max_length=64, blank=True, default="", db_index=True
    )
    result_code = models.CharField(max_length=16, blank=True, default="")
    result_description = models.TextField(blank=True, default="")
    refund_receipt_number = models.CharField(
        max_length=20,
        blank=True,
        default="",
        help_text="The M-Pesa receipt of the reversal or B2C payment itself.",
    )
    outgoing_receipt = models.OneToOneField(
        "payments.MpesaReceipt",
        on_delete=models.PROTECT,
        related_name="refund_sent",
        null=True,
        blank=True,
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    status_checked_at = models.DateTimeField(
        null=True, blank=True, help_text="Last Transaction Status query sent."
    )

    class Meta:
        ordering = ("-created_at", "-id")
        permissions = [
            ("request_refund", "Can request refunds"),
            ("approve_refund", "Can approve or reject refunds"),
            (
                "approve_large_refund",
                "Can approve refunds above REFUND_APPROVAL_LIMIT",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="refund_status_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=1), name="refund_amount_gte_1"
            ),
            models.CheckConstraint(
                condition=Q(status__in=RefundStatus.values),
                name="refund_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(method__in=["reversal", "b2c"]),
                name="refund_method_valid",
            ),
            # Maker and checker are two people, whatever code writes the row.
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True)
                | ~Q(approved_by=F("requested_by")),
                name="refund_approver_not_requester",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=_APPROVED_STATUSES)
                | Q(approved_by__isnull=False),
                name="refund_approved_before_sent",
            ),
            models.CheckConstraint(
                condition=~Q(method="b2c") | ~Q(recipient_phone=""),
                name="refund_b2c_has_recipient",
            ),
        ]

    def __str__(self) -> str:
        return f"Refund {self.pk} of KES {self.amount:,} ({self.status})"

    @classmethod
    def can_transition(cls, from_status: str, to_status: str) -> bool:
        return to_status in cls.ALLOWED_TRANSITIONS.get(from_status, frozenset())

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class TransactionStatusCheck(TimeStampedModel):
    """One Transaction Status query we sent, and what M-Pesa answered.

    For a refund of unknown outcome (``refund`` set) or for any receipt
    staff asked about ("Verify with M-Pesa"). Matched to its result by
    ``originator_conversation_id`` or ``conversation_id``.
    """

    class State(models.TextChoices):
        SENT = "sent", "Sent, awaiting M-Pesa's answer"
        ANSWERED = "answered", "Answered"
        FAILED = "failed", "Not accepted by Daraja"
        TIMED_OUT = "timed_out", "Queue time-out"

    transaction_id = models.CharField(
        max_length=20, blank=True, default="", help_text="The receipt asked about."
    )
    original_conversation_id = models.CharField(max_length=64, blank=True, default="")
    refund = models.ForeignKey(
        Refund,
        on_delete=models.PROTECT,
        related_name="status_checks",
        null=True,
        blank=True,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.SENT)
    originator_conversation_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False
    )
    conversation_id = models.CharField(
        max_length=64, blank=True, default="", db_index=True
    )
    result_code = models.CharField(max_length=16, blank=True, default="")
    result_description = models.TextField(blank=True, default="")
    # The parsed answer (status, amount, parties, times), for staff to read;
    # encrypted at rest: the parties are phone numbers and names.
    answer = EncryptedJSONField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        permissions = [
            ("verify_receipt", "Can verify a receipt with M-Pesa"),
        ]

    def __str__(self) -> str:
        asked = self.transaction_id or self.original_conversation_id
        return f"Status check of {asked} ({self.state})"
