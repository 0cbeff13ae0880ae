"""Payments in the admin: the changelist and payment page (read-only, with
actions). The payments inline on the booking page is in
``payments/admin/booking_payments.py``.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import path
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from core.money import format_kes
from payments.admin import actions, display
from payments.admin.events import PaymentEventInline
from payments.admin.reconciliation import reconciliation_view
from payments.admin.search import (
    ReceiptPendingFilter,
    ResultCodeFilter,
    StuckFilter,
    payment_search_q,
)
from payments.models import Payment

PERMISSION = "payments.{}_payment"
# Masked phone columns and their full twins, swapped in for users with
# payments.view_full_phone (see ``display.fields_for``).
FULL_PHONE_FIELDS = {"phone": "phone_full", "paid_phone": "paid_phone_full"}


@admin.register(Payment)
class PaymentAdmin(display.ReadOnlyMixin, admin.ModelAdmin):
    """Find, inspect, re-query and resolve payments; never edit them."""

    # Who, how much and where it stands first: at 1280 px the last columns
    # scroll inside the list.
    list_display = (
        "id",
        "created_at",
        "client_column",
        "amount_column",
        "status_column",
        "phone",
        "mpesa_receipt_number",
        "result_code",
        "failure_reason",
        "booking_column",
        "age",
    )
    list_display_links = ("id", "created_at")
    list_filter = (
        "status",
        "review_code",
        StuckFilter,
        ReceiptPendingFilter,
        ResultCodeFilter,
        ("created_at", admin.DateFieldListFilter),
    )
    search_fields = ("mpesa_receipt_number",)  # shows the box; see search.py
    search_help_text = (
        "Receipt, CheckoutRequestID, MerchantRequestID, phone (any format), "
        "booking id or reference, or the client's username or name."
    )
    list_per_page = 50
    # "N of M" needs a second COUNT over the whole table on every page.
    show_full_result_count = False
    actions = (
        actions.requery_with_daraja,
        actions.resolve_manually,
        actions.export_csv,
    )
    inlines = (PaymentEventInline,)

    class Media:
        # The history table fits a 1280 px window (wrapping long JSON).
        css = {"all": ("payments/admin.css",)}

    fieldsets = (
        (
            None,
            {"fields": ("status_column", "amount_column", "phone", "initiated_by")},
        ),
        (
            "Daraja",
            {
                "fields": (
                    "merchant_request_id",
                    "checkout_request_id",
                    "result_code",
                    "result_desc",
                    "failure_reason",
                )
            },
        ),
        (
            "Money received",
            {
                "fields": (
                    "mpesa_receipt_number",
                    "paid_amount_column",
                    "paid_phone",
                    "transaction_date",
                )
            },
        ),
        ("Booking", {"fields": ("booking_column", "other_payments")}),
        (
            "Times",
            {"fields": ("created_at", "accepted_at", "last_queried_at", "updated_at")},
        ),
        (
            "Idempotency",
            {
                "classes": ("collapse",),
                "fields": (
                    "idempotency_key",
                    "idempotent_status_code",
                    "idempotent_response_pretty",
                ),
            },
        ),
    )
    readonly_fields = (
        "status_column",
        "amount_column",
        "paid_amount_column",
        "phone",
        "paid_phone",
        "booking_column",
        "other_payments",
        "idempotent_response_pretty",
        *FULL_PHONE_FIELDS.values(),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Payment]:
        # The client column: one join per page, not one query per row.
        return (
            super()
            .get_queryset(request)
            .select_related("initiated_by", "booking__client")
        )

    def get_list_display(self, request: HttpRequest) -> list[str]:
        return display.fields_for(request, self.list_display, FULL_PHONE_FIELDS)

    def get_fieldsets(self, request: HttpRequest, obj=None) -> list:
        return [
            (name, {**options, "fields": self._phone_fields(request, options)})
            for name, options in super().get_fieldsets(request, obj)
        ]

    def _phone_fields(self, request: HttpRequest, options: dict) -> list[str]:
        return display.fields_for(request, options["fields"], FULL_PHONE_FIELDS)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        if not search_term.strip():
            return queryset, False
        return queryset.filter(payment_search_q(search_term)), False

    def has_requery_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERMISSION.format("requery"))

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERMISSION.format("resolve"))

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERMISSION.format("export"))

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            path(
                "reconciliation/",
                wrap(self.reconciliation),
                name="payments_payment_reconciliation",
            ),
            path("export/", wrap(self.export_filtered), name="payments_payment_export"),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra = {"can_export": self.has_export_permission(request)}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def reconciliation(self, request: HttpRequest):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return reconciliation_view(request, self)

    def export_filtered(self, request: HttpRequest) -> StreamingHttpResponse:
        """The changelist's current filters and search, as CSV."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        return actions.csv_response(changelist.get_queryset(request))

    @admin.display(description="phone")
    def phone(self, payment: Payment) -> str:
        return display.masked_phone(payment.phone_number)

    @admin.display(description="paid from")
    def paid_phone(self, payment: Payment) -> str:
        return display.masked_phone(payment.paid_phone_number)

    @admin.display(description="phone")
    def phone_full(self, payment: Payment) -> str:
        return display.full_phone(payment.phone_number)

    @admin.display(description="paid from")
    def paid_phone_full(self, payment: Payment) -> str:
        return display.full_phone(payment.paid_phone_number)

    @admin.display(description="amount", ordering="amount")
    def amount_column(self, payment: Payment) -> str:
        return format_kes(payment.amount)

    @admin.display(description="paid amount")
    def paid_amount_column(self, payment: Payment) -> str:
        return format_kes(payment.paid_amount)

    @admin.display(description="status", ordering="status")
    def status_column(self, payment: Payment) -> SafeString:
        return display.status_badge(payment.status)

    @admin.display(description="client")
    def client_column(self, payment: Payment) -> str:
        return display.client_name(payment.booking.client)

    @admin.display(description="booking", ordering="booking_id")
    def booking_column(self, payment: Payment) -> SafeString:
        return display.booking_link(payment.booking_id, payment.booking.reference)

    @admin.display(description="age", ordering="-created_at")
    def age(self, payment: Payment) -> str:
        return display.age(payment)

    @admin.display(description="other payments of this booking")
    def other_payments(self, payment: Payment) -> SafeString | str:
        others = (
            Payment.objects.filter(booking_id=payment.booking_id)
            .exclude(pk=payment.pk)
            .order_by("-created_at")
        )
        rows = [
            (display.payment_link(o.pk), display.status_badge(o.status), o.created_at)
            for o in others
        ]
        if not rows:
            return "none"
        return format_html_join("", "<div>{} {} {}</div>", rows)

    @admin.display(description="idempotent response")
    def idempotent_response_pretty(self, payment: Payment) -> SafeString | str:
        return display.pretty_json(payment.idempotent_response)
