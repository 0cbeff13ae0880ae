"""Read-only queries behind the staff console: the reconciliation page and
the CSV export. Nothing here writes; every function is one or two queries
whatever the number of payments.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from core.time import NAIROBI
from payments.models import MpesaReceipt, Payment, PaymentEvent
from payments.phone import mask_phone
from payments.result_codes import FAILURE_REASONS
from payments.selectors import payments_receipt_pending

Status = Payment.Status

CSV_HEADER = (
    "id",
    "created_at",
    "booking_id",
    "amount",
    "status",
    "phone",
    "result_code",
    "result_desc",
    "failure_reason",
    "mpesa_receipt_number",
    "paid_amount",
    "transaction_date",
    "merchant_request_id",
    "checkout_request_id",
)


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


def nairobi_today(*, now: datetime | None = None) -> date:
    """Today's date in Nairobi."""
    return timezone.localtime(now or timezone.now(), NAIROBI).date()


def nairobi_midnight(day: date) -> datetime:
    """Midnight in Nairobi at the start of ``day`` (aware)."""
    return datetime(day.year, day.month, day.day, tzinfo=NAIROBI)


def nairobi_day_start(*, days_ago: int = 0, now: datetime | None = None) -> datetime:
    """Midnight in Nairobi ``days_ago`` days before today (aware)."""
    return nairobi_midnight(nairobi_today(now=now) - timedelta(days=days_ago))


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


def payment_csv_rows(payments: QuerySet[Payment]) -> Iterator[list[str]]:
    """The header, then one row per payment, read in chunks (for streaming).

    Phone numbers are masked: the export leaves the admin.
    """
    yield list(CSV_HEADER)
    fields = [name if name != "phone" else "phone_number" for name in CSV_HEADER]
    for values in payments.values_list(*fields).iterator(chunk_size=500):
        row = dict(zip(fields, values, strict=True))
        row["phone_number"] = mask_phone(row["phone_number"])
        yield [_csv_text(row[name]) for name in fields]


def _csv_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value, NAIROBI).isoformat()
    text = str(value)
    # A cell starting with = + - @ is a formula to spreadsheets (CSV
    # injection); result descriptions come from outside.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


Channel = MpesaReceipt.Channel
# The channels money comes in by, in the order of the page's columns.
MONEY_IN_CHANNELS = (Channel.STK, Channel.PAYBILL, Channel.TILL)


@dataclass(frozen=True, slots=True)
class MoneyInDay:
    """Money in on one Nairobi day, in whole KES. ``total`` is the channels
    plus ``receipt_pending``; ``unallocated`` is part of the channels (the
    money of that day nobody's booking took yet), not added again."""

    day: date
    stk: int = 0
    paybill: int = 0
    till: int = 0
    receipt_pending: int = 0
    unallocated: int = 0

    @property
    def total(self) -> int:
        return self.stk + self.paybill + self.till + self.receipt_pending


@dataclass(frozen=True, slots=True)
class MoneyTotal:
    """How many, and how much (whole KES)."""

    count: int = 0
    amount: int = 0


def money_in_per_day(*, first_day: date, last_day: date) -> list[MoneyInDay]:
    """One row per Nairobi day from ``last_day`` back to ``first_day``:
    receipts coming in per channel (by ``transacted_at``, else when we
    recorded them) and payments completed with their receipt pending (by
    their transaction date, else their creation). Two grouped queries."""
    since, until = nairobi_midnight(first_day), nairobi_midnight(last_day)
    until += timedelta(days=1)
    days: dict[date, dict[str, int]] = {}
    for row in _receipts_per_day_channel(since, until):
        sums = days.setdefault(row["day"], {})
        sums[row["channel"]] = row["kes"] or 0
        sums["unallocated"] = sums.get("unallocated", 0) + (row["unallocated"] or 0)
    for row in _pending_per_day(since, until):
        days.setdefault(row["day"], {})["receipt_pending"] = row["kes"] or 0
    count = (last_day - first_day).days + 1
    every_day = (last_day - timedelta(days=n) for n in range(count))
    return [MoneyInDay(day, **days.get(day, {})) for day in every_day]


def _receipts_per_day_channel(since: datetime, until: datetime) -> QuerySet:
    unallocated = Q(allocation=MpesaReceipt.Allocation.UNALLOCATED)
    return (
        MpesaReceipt.objects.filter(
            direction=MpesaReceipt.Direction.IN, channel__in=MONEY_IN_CHANNELS
        )
        .alias(at=Coalesce("transacted_at", "created_at"))
        .filter(at__gte=since, at__lt=until)
        .annotate(day=TruncDate("at", tzinfo=NAIROBI))
        .order_by()
        .values("day", "channel")
        .annotate(kes=Sum("amount"), unallocated=Sum("amount", filter=unallocated))
    )


def _pending_per_day(since: datetime, until: datetime) -> QuerySet:
    return (
        payments_receipt_pending()
        .alias(at=Coalesce("transaction_date", "created_at"))
        .filter(at__gte=since, at__lt=until)
        .annotate(day=TruncDate("at", tzinfo=NAIROBI))
        .order_by()
        .values("day")
        .annotate(kes=Sum("amount"))
    )


def receipt_pending_total() -> MoneyTotal:
    """Payments completed with their receipt still pending (all time)."""
    row = payments_receipt_pending().aggregate(n=Count("pk"), kes=Sum("amount"))
    return MoneyTotal(row["n"], row["kes"] or 0)


def unallocated_total() -> MoneyTotal:
    """Unallocated money in the ledger now (all time)."""
    row = MpesaReceipt.objects.filter(
        allocation=MpesaReceipt.Allocation.UNALLOCATED
    ).aggregate(n=Count("pk"), kes=Sum("amount"))
    return MoneyTotal(row["n"], row["kes"] or 0)
