"""Refund pieces shared by the refunds admin, the receipt page and the
booking page: badges, links, search, the queue filter, and the read-only
inlines (a booking's refunds, a refund's event log)."""

import contextlib
import uuid

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

from bookings.references import booking_reference_normalise
from core.money import format_kes
from payments.admin.display import ReadOnlyMixin, booking_link
from payments.admin.events import PaymentEventInline
from payments.models import Refund

VIEW_PERMISSION = "payments.view_refund"
REQUEST_PERMISSION = "payments.request_refund"
APPROVE_PERMISSION = "payments.approve_refund"
Status = Refund.Status
STATUS_COLOURS = {
    Status.REQUESTED: "#b26a00",
    Status.APPROVED: "#0b5394",
    Status.SUBMITTED: "#6c757d",
    Status.UNKNOWN: "#7b2cbf",
    Status.COMPLETED: "#1e7e34",
    Status.FAILED: "#c82333",
    Status.REJECTED: "#495057",
    Status.CANCELLED: "#495057",
}
# The changelist's queues: what each group of staff works through.
QUEUES = {
    "requested": ("Awaiting approval", (Status.REQUESTED,)),
    "approved": ("Approved, to send", (Status.APPROVED,)),
    "submitted": ("Submitted to M-Pesa", (Status.SUBMITTED,)),
    "unknown": ("Outcome unknown", (Status.UNKNOWN,)),
    "done": (
        "Done",
        (Status.COMPLETED, Status.FAILED, Status.REJECTED, Status.CANCELLED),
    ),
}
_MAX_ID = 2**63 - 1


def refund_status_badge(status: str) -> SafeString:
    label = Status(status).label if status in Status.values else status
    return format_html(
        '<span class="refund-status refund-status-{}" style="color:#fff;background:{};'
        'padding:2px 6px;border-radius:4px;white-space:nowrap">{}</span>',
        status,
        STATUS_COLOURS.get(status, "#6c757d"),
        label,
    )


def refund_link(refund: Refund) -> SafeString:
    url = reverse("admin:payments_refund_change", args=[refund.pk])
    return format_html('<a href="{}">Refund {}</a>', url, refund.pk)


def receipt_link(receipt_id: int, number: str) -> SafeString:
    url = reverse("admin:payments_mpesareceipt_change", args=[receipt_id])
    return format_html('<a href="{}">{}</a>', url, number)


def username(user) -> str:
    return user.get_username() if user is not None else "-"


def refund_age(refund: Refund) -> str:
    return timesince(refund.created_at, timezone.now(), depth=1)


def local_time(value) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}" if value else "-"


def refund_search_q(term: str) -> Q:
    """Receipt number (the refunded one or the refund's own), booking
    reference (any spelling), refund id, or a conversation id."""
    term = term.strip()
    query = (
        Q(receipt__receipt_number__iexact=term)
        | Q(refund_receipt_number__iexact=term)
        | Q(conversation_id=term)
        | Q(daraja_originator_conversation_id=term)
    )
    reference = booking_reference_normalise(term)
    if reference:
        query |= Q(booking__reference=reference)
    digits = term.removeprefix("#")
    if digits.isdigit() and int(digits) <= _MAX_ID:
        query |= Q(pk=int(digits))
    with contextlib.suppress(ValueError):
        query |= Q(originator_conversation_id=uuid.UUID(term))
    return query


class QueueFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [(key, label) for key, (label, _) in QUEUES.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() not in QUEUES:
            return queryset
        return queryset.filter(status__in=QUEUES[self.value()][1])


class RefundEventInline(PaymentEventInline):
    """The refund's log: its request, decisions, exchanges and results."""

    fk_name = "refund"
    verbose_name_plural = "Event log (every decision and exchange, newest first)"


class _RefundInline(ReadOnlyMixin, admin.TabularInline):
    """Refunds listed read-only on another object's page."""

    model = Refund
    extra = 0
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(VIEW_PERMISSION)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Refund]:
        return (
            super()
            .get_queryset(request)
            .select_related("receipt", "booking", "requested_by", "approved_by")
        )

    @admin.display(description="refund")
    def link(self, refund: Refund) -> SafeString:
        return refund_link(refund)

    @admin.display(description="requested (Nairobi)")
    def created(self, refund: Refund) -> str:
        return local_time(refund.created_at)

    @admin.display(description="receipt")
    def receipt_number(self, refund: Refund) -> SafeString:
        return receipt_link(refund.receipt_id, refund.receipt.receipt_number)

    @admin.display(description="booking")
    def booking_column(self, refund: Refund) -> SafeString | str:
        if refund.booking_id is None:
            return "-"
        return booking_link(refund.booking_id, refund.booking.reference)

    @admin.display(description="amount")
    def amount_column(self, refund: Refund) -> str:
        return format_kes(refund.amount)

    @admin.display(description="status")
    def status_column(self, refund: Refund) -> SafeString:
        return refund_status_badge(refund.status)

    @admin.display(description="requested by")
    def requested_by_column(self, refund: Refund) -> str:
        return username(refund.requested_by)

    @admin.display(description="approved by")
    def approved_by_column(self, refund: Refund) -> str:
        return username(refund.approved_by)


_COMMON = (
    "amount_column",
    "method",
    "status_column",
    "requested_by_column",
    "approved_by_column",
)


class BookingRefundInline(_RefundInline):
    """A booking's refunds, on the booking page."""

    fk_name = "booking"
    fields = ("link", "created", "receipt_number", *_COMMON)
    readonly_fields = fields
    verbose_name_plural = "Refunds"


class ReceiptRefundInline(_RefundInline):
    """A receipt's refunds, on the receipt page ("Request refund…" is in
    its object tools: templates/admin/payments/mpesareceipt/)."""

    fk_name = "receipt"
    fields = ("link", "created", "booking_column", *_COMMON, "refund_receipt_number")
    readonly_fields = fields
    verbose_name_plural = "Refunds"
