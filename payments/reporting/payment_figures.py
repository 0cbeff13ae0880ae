"""Payments by status for the reconciliation page: totals, stuck, review.

How many payments (and how much KES) per status over a period, the open
ones past the STK lifetime, those waiting for staff with their reason, and
failures grouped by result code. Read-only; each is one or two queries
whatever the number of payments.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from payments.models import Payment, PaymentEvent
from payments.result_codes import FAILURE_REASONS

Status = Payment.Status


@dataclass(frozen=True, slots=True)
class FailureReasonRow:
    """Failed payments sharing a result code, over some period."""

    result_code: str
    meaning: str
    count: int


@dataclass(frozen=True, slots=True)
class StatusTotal:
    """Payments in one status over some period: how many, and the KES asked."""

    count: int = 0
    amount: int = 0


def payment_status_totals(
    *, since: datetime, until: datetime | None = None
) -> dict[str, StatusTotal]:
    """Payments created in [since, until), per status (every status present):
    one grouped query."""
    payments = Payment.objects.filter(created_at__gte=since)
    if until is not None:
        payments = payments.filter(created_at__lt=until)
    rows = (
        payments.order_by().values("status").annotate(n=Count("pk"), kes=Sum("amount"))
    )
    totals = {status: StatusTotal() for status in Status.values}
    totals.update({row["status"]: StatusTotal(row["n"], row["kes"]) for row in rows})
    return totals


def payment_status_counts(
    *, since: datetime, until: datetime | None = None
) -> dict[str, int]:
    """Payments created in [since, until), counted per status (all statuses)."""
    totals = payment_status_totals(since=since, until=until)
    return {status: total.count for status, total in totals.items()}


def payment_stuck_cutoff(*, now: datetime | None = None) -> datetime:
    """Open payments that started before this are past the STK lifetime."""
    lifetime = timedelta(seconds=settings.MPESA_STK_LIFETIME_SECONDS)
    return (now or timezone.now()) - lifetime


def payment_list_stuck(*, now: datetime | None = None) -> QuerySet[Payment]:
    """Open (initiated/pending) payments past the STK lifetime, oldest first.

    The lifetime runs from Daraja's acceptance, or from creation for a
    push never acknowledged, as in ``payments.services.reconciliation``.
    """
    return (
        Payment.objects.filter(status__in=Payment.OPEN_STATUSES)
        .alias(started=Coalesce("accepted_at", "created_at"))
        .filter(started__lt=payment_stuck_cutoff(now=now))
        .order_by("created_at")
    )


def payment_list_needs_review() -> QuerySet[Payment]:
    """Payments waiting for staff, with the reason they went to review."""
    reason = (
        PaymentEvent.objects.filter(
            payment=OuterRef("pk"),
            kind=PaymentEvent.Kind.STATUS_CHANGE,
            to_status=Status.NEEDS_REVIEW,
        )
        .order_by("-created_at", "-id")
        .values("reason")[:1]
    )
    return (
        Payment.objects.filter(status=Status.NEEDS_REVIEW)
        .annotate(review_reason=Subquery(reason))
        .order_by("updated_at")
    )


@dataclass(frozen=True, slots=True)
class ReviewReasonRow:
    """Payments in review for one reason (``Payment.review_code``)."""

    code: str
    label: str
    count: int


def payment_review_reasons() -> list[ReviewReasonRow]:
    """Payments now in ``needs_review``, counted per reason, commonest first.

    ``failure_after_completion`` counts completed payments a later failure
    report contradicted: one of the two reports was not from Daraja.
    """
    rows = (
        Payment.objects.filter(status=Status.NEEDS_REVIEW)
        .order_by()
        .values("review_code")
        .annotate(n=Count("pk"))
        .order_by("-n", "review_code")
    )
    labels = dict(Payment.ReviewCode.choices)
    return [
        ReviewReasonRow(
            row["review_code"],
            labels.get(row["review_code"], "Reason not recorded"),
            row["n"],
        )
        for row in rows
    ]


def payment_failure_reasons(
    *, since: datetime, until: datetime | None = None
) -> list[FailureReasonRow]:
    """Failed payments created in [since, until) grouped by result code,
    commonest first."""
    failed = Payment.objects.filter(status=Status.FAILED, created_at__gte=since)
    if until is not None:
        failed = failed.filter(created_at__lt=until)
    rows = (
        failed.order_by()
        .values("result_code")
        .annotate(n=Count("pk"))
        .order_by("-n", "result_code")
    )
    return [
        FailureReasonRow(row["result_code"], _meaning(row["result_code"]), row["n"])
        for row in rows
    ]


def _meaning(result_code: str) -> str:
    if not result_code:
        return "No result code recorded"
    return FAILURE_REASONS.get(result_code, "Unknown code: review the raw callback")
