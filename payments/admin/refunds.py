"""The refunds queue in the admin: the list (by queue, method, reason),
a read-only page per refund with its event log, and the decisions.

Nobody adds, edits or deletes a refund here: "Request refund…" (on a
receipt's page), "Approve…", "Reject…" and "Cancel…" each confirm on
their own page and call one service of ``payments.services.refunds``
(see ``refund_actions``). Viewing needs ``payments.view_refund``
(Support, Finance); requesting and cancelling ``request_refund``;
approving and rejecting ``approve_refund`` (Finance).
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from core.money import format_kes
from payments.admin import refund_actions
from payments.admin import refund_display as show
from payments.admin.display import ReadOnlyMixin, booking_link, masked_phone
from payments.models import Refund


@admin.register(Refund)
class RefundAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Money going back: who asked, who decided, what M-Pesa said."""

    list_display = (
        "id",
        "receipt_column",
        "booking_ref",
        "amount_column",
        "method_column",
        "status_column",
        "requested_by_column",
        "approved_by_column",
        "created_column",
        "age",
    )
    list_display_links = ("id",)
    list_filter = (show.QueueFilter, "method", "reason")
    search_fields = ("=id",)  # shows the box; see refund_display.refund_search_q
    search_help_text = (
        "Receipt number (refunded, or the refund's own), booking reference, "
        "refund id, or an (Originator)ConversationID."
    )
    list_per_page = 50
    show_full_result_count = False
    actions = (
        refund_actions.approve_refunds,
        refund_actions.reject_refunds,
        refund_actions.cancel_refunds,
    )
    inlines = (show.RefundEventInline,)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "status_column",
                    "amount_column",
                    "method",
                    "receipt_column",
                    "booking_column",
                    "recipient",
                    "reason",
                    "reason_text",
                )
            },
        ),
        (
            "People",
            {
                "fields": (
                    "requested_by_column",
                    "approved_by_column",
                    "rejected_by",
                    "cancelled_by",
                    "decision_note",
                )
            },
        ),
        (
            "M-Pesa",
            {
                "fields": (
                    "originator_conversation_id",
                    "daraja_originator_conversation_id",
                    "conversation_id",
                    "result_code",
                    "result_description",
                    "refund_receipt_number",
                )
            },
        ),
        (
            "Times",
            {
                "fields": (
                    "created_at",
                    "approved_at",
                    "submitted_at",
                    "resolved_at",
                    "status_checked_at",
                )
            },
        ),
    )
    readonly_fields = (
        "status_column",
        "amount_column",
        "receipt_column",
        "booking_column",
        "recipient",
        "requested_by_column",
        "approved_by_column",
        "originator_conversation_id",
    )

    class Media:
        css = {"all": ("payments/admin.css",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Refund]:
        return (
            super()
            .get_queryset(request)
            .select_related("receipt", "booking", "requested_by", "approved_by")
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        if not search_term.strip():
            return queryset, False
        return queryset.filter(show.refund_search_q(search_term)), False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(show.VIEW_PERMISSION)

    def has_request_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(show.REQUEST_PERMISSION)

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(show.APPROVE_PERMISSION)

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            path(
                "request/<int:receipt_id>/",
                wrap(self.request_view),
                name="payments_refund_request",
            ),
            *super().get_urls(),
        ]

    def request_view(self, request: HttpRequest, receipt_id: int):
        """ "Request refund…" of one receipt (linked from its page)."""
        if not self.has_request_permission(request):
            raise PermissionDenied
        return refund_actions.request_refund_view(self, request, receipt_id)

    def render_change_form(self, request: HttpRequest, context: dict, *args, **kw):
        # The decision buttons above the page post to the changelist's
        # actions, so both ways share one confirmation page.
        context.update(
            can_approve=self.has_approve_permission(request),
            can_request=self.has_request_permission(request),
        )
        return super().render_change_form(request, context, *args, **kw)

    @admin.display(description="amount", ordering="amount")
    def amount_column(self, refund: Refund) -> str:
        return format_kes(refund.amount)

    @admin.display(description="status", ordering="status")
    def status_column(self, refund: Refund) -> SafeString:
        return show.refund_status_badge(refund.status)

    @admin.display(description="receipt", ordering="receipt__receipt_number")
    def receipt_column(self, refund: Refund) -> SafeString:
        return show.receipt_link(refund.receipt_id, refund.receipt.receipt_number)

    @admin.display(description="booking", ordering="booking__reference")
    def booking_column(self, refund: Refund) -> SafeString | str:
        if refund.booking_id is None:
            return "-"
        return booking_link(refund.booking_id, refund.booking.reference)

    @admin.display(description="method", ordering="method")
    def method_column(self, refund: Refund) -> str:
        return "Reversal" if refund.method == Refund.Method.REVERSAL else "B2C"

    @admin.display(description="booking ref", ordering="booking__reference")
    def booking_ref(self, refund: Refund) -> SafeString | str:
        if refund.booking_id is None:
            return "-"
        url = reverse("admin:bookings_booking_change", args=[refund.booking_id])
        return format_html('<a href="{}">{}</a>', url, refund.booking.reference)

    @admin.display(description="recipient (B2C)")
    def recipient(self, refund: Refund) -> str:
        return masked_phone(refund.recipient_phone)

    @admin.display(description="requested by", ordering="requested_by__username")
    def requested_by_column(self, refund: Refund) -> str:
        return show.username(refund.requested_by)

    @admin.display(description="approved by", ordering="approved_by__username")
    def approved_by_column(self, refund: Refund) -> str:
        return show.username(refund.approved_by)

    @admin.display(description="created (Nairobi)", ordering="created_at")
    def created_column(self, refund: Refund) -> str:
        return show.local_time(refund.created_at)

    @admin.display(description="age", ordering="-created_at")
    def age(self, refund: Refund) -> str:
        return show.refund_age(refund)
