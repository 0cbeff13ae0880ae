"""What we imported of M-Pesa's record and what it told us.

``StatementImport``: one file (by its SHA-256) or one Pull Transactions
fetch, with its period, its header and the summary. ``StatementLine``: one
row kept raw, what it was matched to, and its ``outcome``; a receipt is one
line across imports (unique receipt, direction and reason type), so
overlapping statements merge. ``StatementDiscrepancy``: what our ledger
holds that the statement lacks (``missing_from_statement``), and a row
showing an imported line's receipt with other values (``conflicting_row``).
Only ``statements.services`` writes these models; money moves only
through the payments owners.
"""

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel


class StatementImport(TimeStampedModel):
    """One imported statement file (or Pull Transactions fetch)."""

    class Source(models.TextChoices):
        STATEMENT = "statement", "Org portal statement"
        PULL = "pull", "Pull Transactions"

    sha256 = models.CharField(max_length=64, unique=True)
    filename = models.CharField(max_length=255, blank=True, default="")
    source = models.CharField(
        max_length=10, choices=Source.choices, default=Source.STATEMENT
    )
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    account_holder = models.CharField(max_length=128, blank=True, default="")
    short_code = models.CharField(max_length=32, blank=True, default="")
    opening_balance = models.BigIntegerField(null=True, blank=True)
    closing_balance = models.BigIntegerField(null=True, blank=True)
    total_paid_in = models.BigIntegerField(null=True, blank=True)
    total_withdrawn = models.BigIntegerField(null=True, blank=True)
    header = models.JSONField(default=dict, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    summary = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = "M-Pesa statement import"
        permissions = [("import_statement", "Can import M-Pesa statements")]

    def __str__(self) -> str:
        return f"{self.filename or self.sha256[:12]} ({self.get_source_display()})"


class Outcome(models.TextChoices):
    """What one statement line turned out to be."""

    PENDING = "pending", "Not applied yet"
    MATCHED = "matched", "Matched"
    AMOUNT_MISMATCH = "amount_mismatch", "Amount differs from the ledger"
    RECOVERED = "recovered", "Recovered a payment (lost callback)"
    ALLOCATED = "allocated", "Recorded and paid its booking"
    UNALLOCATED = "unallocated", "Recorded, unallocated"
    REFUND = "refund", "A refund"
    CHARGE = "charge", "M-Pesa charge"
    SETTLEMENT = "settlement", "Settlement to our own account"
    UNEXPLAINED_WITHDRAWAL = "unexplained_withdrawal", "Unexplained withdrawal"
    NOT_COMPLETED = "not_completed", "Not completed (recorded only)"
    UNUSABLE = "unusable", "Amount not whole shillings"


# The outcomes staff must look at.
DISCREPANCY_OUTCOMES = (
    Outcome.AMOUNT_MISMATCH,
    Outcome.UNALLOCATED,
    Outcome.UNEXPLAINED_WITHDRAWAL,
    Outcome.UNUSABLE,
)


class StatementLine(TimeStampedModel):
    """One statement row, kept raw, with what it matched."""

    Outcome = Outcome

    statement_import = models.ForeignKey(
        StatementImport, on_delete=models.PROTECT, related_name="lines"
    )
    line_number = models.PositiveIntegerField()
    receipt_number = models.CharField(max_length=20)
    direction = models.CharField(max_length=3)
    raw = models.JSONField()
    completion_time = models.DateTimeField(null=True, blank=True)
    initiation_time = models.DateTimeField(null=True, blank=True)
    details = models.TextField(blank=True, default="")
    transaction_status = models.CharField(max_length=32, blank=True, default="")
    paid_in = models.PositiveIntegerField(default=0)
    withdrawn = models.PositiveIntegerField(default=0)
    balance = models.BigIntegerField(null=True, blank=True)
    reason_type = models.CharField(max_length=128, blank=True, default="")
    other_party_info = models.CharField(max_length=255, blank=True, default="")
    linked_transaction_id = models.CharField(max_length=32, blank=True, default="")
    account_number = models.CharField(max_length=64, blank=True, default="")
    amount_problem = models.CharField(max_length=255, blank=True, default="")
    outcome = models.CharField(
        max_length=24, choices=Outcome.choices, default=Outcome.PENDING
    )
    unallocated_reason = models.CharField(max_length=24, blank=True, default="")
    detail = models.TextField(blank=True, default="")
    receipt = models.ForeignKey(
        "payments.MpesaReceipt",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    payment = models.ForeignKey(
        "payments.Payment",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    booking = models.ForeignKey(
        "bookings.Booking",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    refund = models.ForeignKey(
        "payments.Refund",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )

    class Meta:
        ordering = ("statement_import", "line_number", "id")
        constraints = [
            # A charge may carry its transaction's receipt number: the
            # reason type tells the two rows apart.
            models.UniqueConstraint(
                fields=["receipt_number", "direction", "reason_type"],
                name="statement_line_once",
            ),
        ]
        indexes = [models.Index(fields=["outcome"], name="statement_line_outcome")]

    def __str__(self) -> str:
        return f"{self.receipt_number} ({self.outcome})"

    @property
    def amount(self) -> int:
        return self.paid_in or self.withdrawn


class StatementDiscrepancy(TimeStampedModel):
    """A ledger receipt of the statement's period the statement lacks."""

    class Kind(models.TextChoices):
        MISSING_FROM_STATEMENT = "missing_from_statement", "Missing from statement"
        CONFLICTING_ROW = (
            "conflicting_row",
            "Shows an imported receipt with other values",
        )

    statement_import = models.ForeignKey(
        StatementImport, on_delete=models.PROTECT, related_name="discrepancies"
    )
    kind = models.CharField(
        max_length=32, choices=Kind.choices, default=Kind.MISSING_FROM_STATEMENT
    )
    receipt = models.ForeignKey(
        "payments.MpesaReceipt",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    # conflicting_row: the earlier import's line, and this file's row raw.
    line = models.ForeignKey(
        StatementLine,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    raw = models.JSONField(default=dict, blank=True)
    payment = models.ForeignKey(
        "payments.Payment",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    booking = models.ForeignKey(
        "bookings.Booking",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    amount = models.PositiveIntegerField()
    detail = models.TextField(blank=True, default="")

    class Meta:
        ordering = ("statement_import", "id")
        verbose_name_plural = "statement discrepancies"
        constraints = [
            models.UniqueConstraint(
                fields=["statement_import", "kind", "receipt"],
                condition=models.Q(kind="missing_from_statement"),
                name="statement_discrepancy_once",
            ),
            models.UniqueConstraint(
                fields=["statement_import", "line"],
                condition=models.Q(kind="conflicting_row"),
                name="statement_conflict_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.receipt_number}"

    @property
    def receipt_number(self) -> str:
        if self.line_id is not None:
            return self.line.receipt_number
        return self.receipt.receipt_number if self.receipt_id else ""
