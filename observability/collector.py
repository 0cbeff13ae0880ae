"""Gauges read from the database when /metrics is scraped.

Computed by the one process that answers the scrape, never stored per
process, so a multiprocess aggregation does not multiply them.
"""

from collections.abc import Iterator

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from payments.models import MpesaReceipt, Payment, Refund

OPEN_PAYMENT_STATUSES = (
    Payment.Status.INITIATED,
    Payment.Status.PENDING,
    Payment.Status.NEEDS_REVIEW,
)
# Waiting on Daraja or the customer (needs_review waits on staff).
IN_FLIGHT_STATUSES = (Payment.Status.INITIATED, Payment.Status.PENDING)
OPEN_REFUND_STATUSES = (
    Refund.Status.REQUESTED,
    Refund.Status.APPROVED,
    Refund.Status.SUBMITTED,
    Refund.Status.UNKNOWN,
)


class DatabaseCollector(Collector):
    """hakiyetu_payments_open, hakiyetu_oldest_open_payment_seconds,
    hakiyetu_receipts_unallocated and (when refunds exist)
    hakiyetu_refunds_open."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield _payments_open()
        yield _oldest_open_payment()
        yield _receipts_unallocated()
        refunds = _refunds_open()
        if refunds is not None:
            yield refunds


def _payments_open() -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(
        "hakiyetu_payments_open",
        "Payments not yet final, by status.",
        labels=["status"],
    )
    counts = _count_by_status(Payment.objects, OPEN_PAYMENT_STATUSES)
    for status in OPEN_PAYMENT_STATUSES:
        gauge.add_metric([status], counts.get(status, 0))
    return gauge


def _oldest_open_payment() -> GaugeMetricFamily:
    oldest = Payment.objects.filter(status__in=IN_FLIGHT_STATUSES).aggregate(
        oldest=Min("created_at")
    )["oldest"]
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return GaugeMetricFamily(
        "hakiyetu_oldest_open_payment_seconds",
        "Age of the oldest initiated or pending payment (0 when none).",
        value=max(age, 0.0),
    )


def _receipts_unallocated() -> GaugeMetricFamily:
    count = MpesaReceipt.objects.filter(
        allocation=MpesaReceipt.Allocation.UNALLOCATED
    ).count()
    return GaugeMetricFamily(
        "hakiyetu_receipts_unallocated",
        "M-Pesa receipts in the ledger that no booking has taken.",
        value=count,
    )


def _refunds_open() -> GaugeMetricFamily | None:
    if not Refund.objects.exists():
        return None
    gauge = GaugeMetricFamily(
        "hakiyetu_refunds_open",
        "Refunds not yet final, by status.",
        labels=["status"],
    )
    counts = _count_by_status(Refund.objects, OPEN_REFUND_STATUSES)
    for status in OPEN_REFUND_STATUSES:
        gauge.add_metric([status], counts.get(status, 0))
    return gauge


def _count_by_status(manager, statuses) -> dict[str, int]:
    rows = (
        manager.filter(status__in=statuses)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
    )
    return {row["status"]: row["n"] for row in rows}
