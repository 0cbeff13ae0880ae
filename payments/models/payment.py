"""Payment (one STK Push attempt) and PaymentEvent (the append-only log).

Only ``payments.services`` writes these models. The allowed status
transitions are data here (``Payment.ALLOWED_TRANSITIONS``); the one helper
that applies them lives in ``payments.services.transitions``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.fields import (
    EncryptedJSONField,
    EncryptedTextField,
    IndexedPhonesMixin,
    PhoneIndexField,
)
from core.models import TimeStampedModel
from core.money import format_kes
from payments.exceptions import AppendOnlyError


class PaymentStatus(models.TextChoices):
    """A payment's status; also ``Payment.Status``."""

    INITIATED = "initiated", "Initiated"
    PENDING = "pending", "Pending"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"
    NEEDS_REVIEW = "needs_review", "Needs review"


# Module level so that ``Payment.Meta`` can build its constraints from it.
PAYMENT_OPEN_STATUSES = (PaymentStatus.INITIATED, PaymentStatus.PENDING)


class Payment(IndexedPhonesMixin, TimeStampedModel):
    """One STK Push attempt to pay a booking."""

    Status = PaymentStatus

    class ReviewCode(models.TextChoices):
        """Why a payment went to ``needs_review`` (the reason text says more)."""

        AMOUNT_MISSING = "amount_missing", "Paid amount missing"
        AMOUNT_INVALID = "amount_invalid", "Paid amount unusable"
        AMOUNT_MISMATCH = "amount_mismatch", "Paid amount differs"
        RECEIPT_MISSING = "receipt_missing", "Receipt missing"
        RECEIPT_INVALID = "receipt_invalid", "Receipt malformed"
        RECEIPT_DUPLICATE = "receipt_duplicate", "Receipt on another payment"
        SECOND_RECEIPT = "second_receipt", "Second receipt for one push"
        FAILURE_AFTER_COMPLETION = (
            "failure_after_completion",
            "Failure reported after completion",
        )
        CONTRADICTED = "contradicted", "Callback contradicted by Daraja"
        BOOKING_ALREADY_PAID = "booking_already_paid", "Booking already paid"
        BOOKING_REFUND_DUE = "booking_refund_due", "Booking cannot be confirmed"
        OUTCOME_UNKNOWN = "outcome_unknown", "Push outcome unknown"
        PAID_BY_PAYBILL_COPY = (
            "paid_by_paybill_copy",
            "Probably its own Paybill copy",
        )
        STATEMENT_AMOUNT_MISMATCH = (
            "statement_amount_mismatch",
            "M-Pesa statement shows another amount",
        )

    OPEN_STATUSES = PAYMENT_OPEN_STATUSES

    # Money that moved is never lost: a success after failed/expired still
    # completes (or goes to review); a completed payment only goes to review.
    ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
        Status.INITIATED: frozenset(
            {Status.PENDING, Status.FAILED, Status.EXPIRED, Status.NEEDS_REVIEW}
        ),
        Status.PENDING: frozenset(
            {Status.COMPLETED, Status.FAILED, Status.EXPIRED, Status.NEEDS_REVIEW}
        ),
        Status.FAILED: frozenset({Status.COMPLETED, Status.NEEDS_REVIEW}),
        Status.EXPIRED: frozenset(
            {Status.COMPLETED, Status.FAILED, Status.NEEDS_REVIEW}
        ),
        Status.COMPLETED: frozenset({Status.NEEDS_REVIEW}),
        Status.NEEDS_REVIEW: frozenset({Status.COMPLETED, Status.FAILED}),
    }

    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.PROTECT, related_name="payments"
    )
    amount = models.PositiveIntegerField(help_text="Whole KES asked, from the booking.")
    # Encrypted at rest (core.crypto); found by phone_index, and a masked
    # callback number by phone_masked_key (the digits M-Pesa shows).
    phone_number = EncryptedTextField(help_text="2547XXXXXXXX")
    phone_index = PhoneIndexField(source="phone_number", kind="phone")
    phone_masked_key = PhoneIndexField(
        source="phone_number", kind="display_mask", max_length=16
    )
    initiated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="payments",
        null=True,
        blank=True,
    )
    # NULL, not "": payments without a key must not collide in the unique
    # (initiated_by, idempotency_key) constraint.
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    idempotent_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    idempotent_response = models.JSONField(null=True, blank=True)

    merchant_request_id = models.CharField(
        max_length=64, blank=True, default="", db_index=True
    )
    checkout_request_id = models.CharField(
        max_length=64, null=True, blank=True, unique=True
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.INITIATED
    )
    result_code = models.CharField(max_length=32, blank=True, default="")
    result_desc = models.CharField(max_length=255, blank=True, default="")
    failure_reason = models.CharField(max_length=255, blank=True, default="")
    review_code = models.CharField(
        max_length=32,
        choices=ReviewCode.choices,
        blank=True,
        default="",
        help_text="Why the payment last went to needs_review.",
    )
    mpesa_receipt_number = models.CharField(
        max_length=32, null=True, blank=True, unique=True
    )
    transaction_date = models.DateTimeField(null=True, blank=True)
    paid_amount = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    paid_phone_number = EncryptedTextField(blank=True, default="")
    paid_phone_index = PhoneIndexField(source="paid_phone_number", kind="phone")

    accepted_at = models.DateTimeField(null=True, blank=True)
    last_queried_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=PaymentStatus.values),
                name="payment_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=1), name="payment_amount_gte_1"
            ),
            models.UniqueConstraint(
                fields=["booking"],
                condition=Q(status__in=[s.value for s in PAYMENT_OPEN_STATUSES]),
                name="payment_one_open_per_booking",
            ),
            models.UniqueConstraint(
                fields=["initiated_by", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="payment_idempotency_key_per_user",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "created_at"], name="payment_status_created"
            ),
            # The default ordering, for deep admin pages.
            models.Index(fields=["created_at", "id"], name="payment_created_id"),
        ]
        # Given to no group: staff see masked numbers (2547******149) unless
        # someone is granted this on purpose. The staff groups' other
        # permissions live in migrations 0003 and 0004.
        permissions = [("view_full_phone", "Can view full phone numbers")]

    def __str__(self) -> str:
        return f"Payment {self.pk} ({self.status}, {format_kes(self.amount)})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @classmethod
    def can_transition(cls, from_status: str, to_status: str) -> bool:
        return to_status in cls.ALLOWED_TRANSITIONS.get(from_status, frozenset())


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses bulk updates and deletes: events are never rewritten."""

    def update(self, **kwargs):
        raise AppendOnlyError("PaymentEvent rows are append-only.")

    def delete(self):
        raise AppendOnlyError("PaymentEvent rows are append-only.")


# The columns of PaymentEvent that hold ciphertext: the only ones the
# encrypting migration and rotate_field_keys may rewrite.
EVENT_ENCRYPTED_COLUMNS = ("headers", "request_body", "response_body", "raw_body")


class PaymentEvent(models.Model):
    """One immutable record: a Daraja exchange, a callback, a status change,
    a query result or a staff action. ``payment`` is empty for a callback
    whose CheckoutRequestID we do not know (kept so nothing is lost)."""

    class Kind(models.TextChoices):
        DARAJA_EXCHANGE = "daraja_exchange", "Daraja request/response"
        CALLBACK = "callback", "Callback received"
        QUERY_RESULT = "query_result", "STK query result"
        STATUS_CHANGE = "status_change", "Status change"
        STAFF_ACTION = "staff_action", "Staff action"
        NOTE = "note", "Note"
        C2B_VALIDATION = "c2b_validation", "C2B validation received"
        C2B_CONFIRMATION = "c2b_confirmation", "C2B confirmation received"
        RESULT = "result", "Daraja result received"
        QUEUE_TIMEOUT = "queue_timeout", "Daraja queue time-out received"

    # Found through ``event_payment_created`` (payment, created_at): no
    # single-column index of its own to keep in step on every INSERT.
    payment = models.ForeignKey(
        Payment,
        on_delete=models.PROTECT,
        related_name="events",
        null=True,
        blank=True,
        db_index=False,
    )
    # Money going out: the refund (or status check) an exchange, a result
    # or a status change belongs to; a result we cannot match keeps neither.
    refund = models.ForeignKey(
        "payments.Refund",
        on_delete=models.PROTECT,
        related_name="events",
        null=True,
        blank=True,
    )
    status_check = models.ForeignKey(
        "payments.TransactionStatusCheck",
        on_delete=models.PROTECT,
        related_name="events",
        null=True,
        blank=True,
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    operation = models.CharField(max_length=24, blank=True, default="")
    checkout_request_id = models.CharField(
        max_length=64, blank=True, default="", db_index=True
    )
    from_status = models.CharField(max_length=16, blank=True, default="")
    to_status = models.CharField(max_length=16, blank=True, default="")
    reason = models.TextField(blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    # Encrypted at rest: Daraja's bodies carry phone numbers (PhoneNumber,
    # PartyA, MSISDN); raw_body decrypts to exactly what Daraja sent.
    headers = EncryptedJSONField(null=True, blank=True)
    request_body = EncryptedJSONField(null=True, blank=True)
    response_body = EncryptedJSONField(null=True, blank=True)
    raw_body = EncryptedTextField(blank=True, default="")
    error = models.TextField(blank=True, default="")
    duration_ms = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(
                fields=["payment", "created_at"], name="event_payment_created"
            ),
            models.Index(fields=["kind", "created_at"], name="event_kind_created"),
        ]

    def __str__(self) -> str:
        # Nairobi time, like the admin's columns beside the title.
        created = timezone.localtime(self.created_at)
        return f"{self.get_kind_display()} {created:%Y-%m-%d %H:%M:%S}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("PaymentEvent rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("PaymentEvent rows are append-only.")
