"""The receipts ledger in the admin: every receipt (read-only), and
"Unallocated money" with its two staff actions.

Nobody adds, edits or deletes receipts here: allocation and the refund mark
change only through ``payments.services.ledger`` (see
``payments.admin.receipt_actions``). Finance and Support view receipts
(``payments.view_mpesareceipt``); the actions need
``payments.allocate_receipt`` (Finance).
"""

from django.contrib import admin
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from core.money import format_kes
from payments import reporting
from payments.admin import display, receipt_actions
from payments.admin.receipt_search import (
    SightingSourceFilter,
    receipt_search_q,
    with_search_fields,
)
from payments.admin.refund_display import ReceiptRefundInline
from payments.models import (
    MpesaReceipt,
    MpesaReceiptSighting,
    PaymentEvent,
    UnallocatedReceipt,
)
from payments.services.ledger_staff import STAFF_OPERATIONS

VIEW_PERMISSION = "payments.view_mpesareceipt"
ALLOCATE_PERMISSION = "payments.allocate_receipt"
Allocation = MpesaReceipt.Allocation
# The masked payer column and its full twin, swapped in for users with
# payments.view_full_phone (see ``display.fields_for``).
FULL_PHONE_FIELDS = {"payer": "payer_full"}


class SightingInline(display.ReadOnlyMixin, admin.TabularInline):
    """Each report of the receipt: who reported it, when, the raw event."""

    model = MpesaReceiptSighting
    extra = 0
    can_delete = False
    fields = ("source", "seen_at", "event_link")
    readonly_fields = fields
    verbose_name_plural = "Sightings (each report of this receipt, oldest first)"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("event")

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(VIEW_PERMISSION)

    @admin.display(description="seen at (Nairobi)")
    def seen_at(self, sighting: MpesaReceiptSighting) -> str:
        return f"{timezone.localtime(sighting.created_at):%Y-%m-%d %H:%M:%S}"

    @admin.display(description="raw event")
    def event_link(self, sighting: MpesaReceiptSighting) -> SafeString | str:
        if sighting.event_id is None:
            return "-"
        url = reverse("admin:payments_paymentevent_change", args=[sighting.event_id])
        return format_html('<a href="{}">{}</a>', url, sighting.event)


@admin.register(MpesaReceipt)
class MpesaReceiptAdmin(display.ReadOnlyMixin, admin.ModelAdmin):
    """Every M-Pesa receipt we know of, whatever reported it."""

    # What staff look for first (which money, when, where it went); at
    # 1280 px the last columns scroll inside the list.
    list_display = (
        "receipt_number",
        "transacted_column",
        "amount_column",
        "channel",
        "allocation_column",
        "booking_column",
        "payer",
        "payer_name",
        "account_reference",
        "payment_column",
        "direction",
        "sightings_count",
    )
    list_filter = (
        "channel",
        "allocation",
        "unallocated_reason",
        SightingSourceFilter,
    )
    search_fields = ("receipt_number",)  # shows the box; see receipt_search
    search_help_text = (
        "Receipt number, payer's phone (07…, +254…, 254…; also matches hashed "
        "and masked numbers), account number, or booking reference."
    )
    list_per_page = 50
    show_full_result_count = False
    inlines = (SightingInline, ReceiptRefundInline)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "receipt_number",
                    "channel",
                    "direction",
                    "amount_column",
                    "transacted_column",
                )
            },
        ),
        ("Payer", {"fields": ("payer", "payer_name", "account_reference")}),
        (
            "Allocation",
            {
                "fields": (
                    "allocation_column",
                    "booking_column",
                    "payment_column",
                    "refund_mark",
                    "staff_actions",
                )
            },
        ),
        ("Recorded", {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = (
        "amount_column",
        "transacted_column",
        "payer",
        "payer_full",
        "allocation_column",
        "booking_column",
        "payment_column",
        "refund_mark",
        "staff_actions",
    )

    class Media:
        css = {"all": ("payments/admin.css",)}

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(VIEW_PERMISSION)

    def has_allocate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(ALLOCATE_PERMISSION)

    def get_queryset(self, request: HttpRequest) -> QuerySet[MpesaReceipt]:
        sightings = (
            MpesaReceiptSighting.objects.filter(receipt=OuterRef("pk"))
            .order_by()
            .values("receipt")
            .annotate(n=Count("pk"))
            .values("n")
        )
        queryset = (
            super()
            .get_queryset(request)
            .select_related("booking", "refund_marked_by")
            .annotate(sighting_count=Subquery(sightings))
        )
        return with_search_fields(queryset)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        if not search_term.strip():
            return queryset, False
        return queryset.filter(receipt_search_q(search_term)), False

    changelist_title = "M-Pesa receipts: every transaction we know of"

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra = {
            "title": self.changelist_title,
            "receipt_pending": reporting.receipt_pending_total(),
            "unallocated": reporting.unallocated_total(),
        }
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    @admin.display(description="amount", ordering="amount")
    def amount_column(self, receipt: MpesaReceipt) -> str:
        return format_kes(receipt.amount)

    @admin.display(description="payer")
    def payer(self, receipt: MpesaReceipt) -> str:
        return display.payer_phone(receipt.payer_phone)

    @admin.display(description="payer")
    def payer_full(self, receipt: MpesaReceipt) -> str:
        return display.payer_phone(receipt.payer_phone, full=True)

    @admin.display(description="transacted (Nairobi)", ordering="transacted_at")
    def transacted_column(self, receipt: MpesaReceipt) -> str:
        if receipt.transacted_at is None:
            return "-"
        return f"{timezone.localtime(receipt.transacted_at):%Y-%m-%d %H:%M}"

    @admin.display(description="booking", ordering="booking_id")
    def booking_column(self, receipt: MpesaReceipt) -> SafeString | str:
        if receipt.booking_id is None:
            return "-"
        return display.booking_link(receipt.booking_id, receipt.booking.reference)

    @admin.display(description="payment", ordering="payment_id")
    def payment_column(self, receipt: MpesaReceipt) -> SafeString | str:
        if receipt.payment_id is None:
            return "-"
        return display.payment_link(receipt.payment_id)

    @admin.display(description="allocation", ordering="allocation")
    def allocation_column(self, receipt: MpesaReceipt) -> SafeString:
        return display.allocation_badge(receipt)

    @admin.display(description="sightings", ordering="sighting_count")
    def sightings_count(self, receipt: MpesaReceipt) -> int:
        return getattr(receipt, "sighting_count", None) or 0

    @admin.display(description="marked for refund")
    def refund_mark(self, receipt: MpesaReceipt) -> str:
        if receipt.refund_marked_at is None:
            return "no"
        when = timezone.localtime(receipt.refund_marked_at)
        who = receipt.refund_marked_by
        return f"{when:%Y-%m-%d %H:%M} by {who.get_username() if who else '?'}"

    @admin.display(description="staff actions")
    def staff_actions(self, receipt: MpesaReceipt) -> SafeString | str:
        events = PaymentEvent.objects.filter(
            kind=PaymentEvent.Kind.STAFF_ACTION,
            operation__in=STAFF_OPERATIONS,
            reason__startswith=f"Receipt {receipt.receipt_number} ",
        ).select_related("actor")
        rows = [
            (
                reverse("admin:payments_paymentevent_change", args=[event.pk]),
                f"{timezone.localtime(event.created_at):%Y-%m-%d %H:%M}",
                event.actor.get_username() if event.actor else "?",
                event.reason,
            )
            for event in events
        ]
        if not rows:
            return "none"
        return format_html_join("", '<div><a href="{}">{}</a> {}: {}</div>', rows)

    def get_list_display(self, request: HttpRequest) -> list[str]:
        return display.fields_for(request, self.list_display, FULL_PHONE_FIELDS)

    def get_fieldsets(self, request: HttpRequest, obj=None) -> list:
        return [
            (
                name,
                {
                    **options,
                    "fields": display.fields_for(
                        request, options["fields"], FULL_PHONE_FIELDS
                    ),
                },
            )
            for name, options in super().get_fieldsets(request, obj)
        ]


@admin.register(UnallocatedReceipt)
class UnallocatedReceiptAdmin(MpesaReceiptAdmin):
    """Money nobody's booking took yet, with why, and what staff can do."""

    list_display = (
        "receipt_number",
        "transacted_column",
        "amount_column",
        "reason_column",
        "account_reference",
        "payer",
        "payer_name",
        "channel",
        "refund_mark",
        "sightings_count",
    )
    list_filter = ("channel", "unallocated_reason", SightingSourceFilter)
    changelist_title = (
        "Unallocated money: allocate it to a booking, or mark it for refund"
    )
    actions = (receipt_actions.allocate_to_booking, receipt_actions.mark_for_refund)

    def get_queryset(self, request: HttpRequest) -> QuerySet[MpesaReceipt]:
        return super().get_queryset(request).filter(allocation=Allocation.UNALLOCATED)

    @admin.display(description="why unallocated", ordering="unallocated_reason")
    def reason_column(self, receipt: MpesaReceipt) -> str:
        return receipt.get_unallocated_reason_display() or "-"
