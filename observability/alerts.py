"""The alert conditions: each a function of the database, returning
whether it holds now and a line saying what is wrong.

Read from the database (not from per-process counters) so every beat or
worker process sees the same thing.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from payments.models import MpesaReceipt, Payment, PaymentEvent, Refund

Status = Payment.Status


@dataclass(frozen=True, slots=True)
class Condition:
    """Whether an alert condition holds, and what to tell people."""

    active: bool
    detail: str


def payments_overdue() -> Condition:
    """Payments still initiated or pending past their STK lifetime plus
    ``ALERT_GRACE_SECONDS``: the sweep is not settling them."""
    seconds = settings.MPESA_STK_LIFETIME_SECONDS + settings.ALERT_GRACE_SECONDS
    cutoff = timezone.now() - timedelta(seconds=seconds)
    count = Payment.objects.filter(
        status__in=(Status.INITIATED, Status.PENDING), created_at__lt=cutoff
    ).count()
    return Condition(
        count > 0, f"{count} payment(s) still open more than {seconds} s after start"
    )


def callback_silence() -> Condition:
    """At least ``ALERT_SILENCE_MIN_PUSHES`` pushes accepted in the last
    ``ALERT_SILENCE_MINUTES`` and not one STK callback: Daraja's callbacks
    are not reaching us."""
    minutes = settings.ALERT_SILENCE_MINUTES
    since = timezone.now() - timedelta(minutes=minutes)
    pushes = Payment.objects.filter(accepted_at__gte=since).count()
    callbacks = PaymentEvent.objects.filter(
        kind=PaymentEvent.Kind.CALLBACK, created_at__gte=since
    ).exists()
    active = pushes >= settings.ALERT_SILENCE_MIN_PUSHES and not callbacks
    return Condition(
        active, f"{pushes} push(es) accepted in {minutes} min and no STK callback"
    )


def review_backlog() -> Condition:
    """More payments in needs_review, or unallocated receipts, than
    ``ALERT_REVIEW_BACKLOG``."""
    limit = settings.ALERT_REVIEW_BACKLOG
    review = Payment.objects.filter(status=Status.NEEDS_REVIEW).count()
    unallocated = MpesaReceipt.objects.filter(
        allocation=MpesaReceipt.Allocation.UNALLOCATED
    ).count()
    return Condition(
        review > limit or unallocated > limit,
        f"{review} payment(s) need review, {unallocated} receipt(s) unallocated "
        f"(alert above {limit})",
    )


def refunds_unknown() -> Condition:
    """Refunds whose outcome has been unknown longer than
    ``ALERT_REFUND_UNKNOWN_SECONDS``, counted from the status event that
    made them unknown (the row's last change when there is none)."""
    seconds = settings.ALERT_REFUND_UNKNOWN_SECONDS
    cutoff = timezone.now() - timedelta(seconds=seconds)
    became_unknown = (
        PaymentEvent.objects.filter(
            refund=OuterRef("pk"),
            kind=PaymentEvent.Kind.STATUS_CHANGE,
            to_status=Refund.Status.UNKNOWN,
        )
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    count = (
        Refund.objects.filter(status=Refund.Status.UNKNOWN)
        .annotate(since=Subquery(became_unknown))
        .filter(Q(since__lt=cutoff) | Q(since__isnull=True, updated_at__lt=cutoff))
        .count()
    )
    return Condition(
        count > 0, f"{count} refund(s) of unknown outcome for over {seconds} s"
    )


def daraja_error_rate() -> Condition:
    """The share of failed Daraja requests (no answer, 401, 403, 429 or
    5xx) among those stored in the last ``ALERT_DARAJA_WINDOW_MINUTES``,
    above ``ALERT_DARAJA_ERROR_RATE`` once there are at least
    ``ALERT_DARAJA_MIN_REQUESTS``."""
    minutes = settings.ALERT_DARAJA_WINDOW_MINUTES
    since = timezone.now() - timedelta(minutes=minutes)
    exchanges = PaymentEvent.objects.filter(
        kind=PaymentEvent.Kind.DARAJA_EXCHANGE, created_at__gte=since
    )
    total = exchanges.count()
    failed = exchanges.filter(
        Q(http_status__isnull=True)
        | Q(http_status__gte=500)
        | Q(http_status__in=(401, 403, 429))
    ).count()
    rate = failed / total if total else 0.0
    active = (
        total >= settings.ALERT_DARAJA_MIN_REQUESTS
        and rate > settings.ALERT_DARAJA_ERROR_RATE
    )
    return Condition(
        active, f"{failed} of {total} Daraja request(s) failed in {minutes} min"
    )


CONDITIONS: dict[str, Callable[[], Condition]] = {
    "payments_overdue": payments_overdue,
    "callback_silence": callback_silence,
    "review_backlog": review_backlog,
    "refunds_unknown": refunds_unknown,
    "daraja_error_rate": daraja_error_rate,
}
