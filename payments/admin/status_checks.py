"""Transaction Status checks in the admin: every check (read-only) with
M-Pesa's answer, the "Verify with M-Pesa" page (``receipt_verify``) under
this admin's URLs, and ``RefundStatusCheckInline`` for the refund page.

Nobody adds, edits or deletes checks here: they are written only by
``payments.services.status_checks``. Viewing needs
``payments.verify_receipt`` (or the model's view permission).
"""

from django.contrib import admin
from django.http import HttpRequest
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from payments.admin import display
from payments.admin.receipt_verify import (
    VERIFY_PERMISSION,
    check_summary,
    verify_url,
    verify_view,
)
from payments.models import TransactionStatusCheck

VIEW_PERMISSION = "payments.view_transactionstatuscheck"
_ANSWER_FIELDS = (
    "state_column",
    "status_column",
    "receipt_column",
    "amount_column",
    "debit_party_column",
    "credit_party_column",
    "finalised_column",
    "ledger_column",
)


class _CheckColumns:
    """Columns shared by the admin and the refund page's inline."""

    def _summary(self, check: TransactionStatusCheck) -> dict:
        # Lists always mask: the full number is on the receipt's own page
        # for users with payments.view_full_phone.
        return check_summary(check)

    @admin.display(description="state", ordering="state")
    def state_column(self, check: TransactionStatusCheck) -> str:
        return self._summary(check)["state"]

    @admin.display(description="M-Pesa status")
    def status_column(self, check: TransactionStatusCheck) -> str:
        return self._summary(check)["status"]

    @admin.display(description="receipt")
    def receipt_column(self, check: TransactionStatusCheck) -> str:
        return self._summary(check)["receipt_no"]

    @admin.display(description="amount")
    def amount_column(self, check: TransactionStatusCheck) -> str:
        return self._summary(check)["amount"]

    @admin.display(description="paid by")
    def debit_party_column(self, check: TransactionStatusCheck) -> str:
        return self._summary(check)["debit_party"]

    @admin.display(description="paid to")
    def credit_party_column(self, check: TransactionStatusCheck) -> str:
        return self._summary(check)["credit_party"]

    @admin.display(description="completed (Nairobi)")
    def finalised_column(self, check: TransactionStatusCheck) -> str:
        return self._summary(check)["finalised_at"]

    @admin.display(description="ledger")
    def ledger_column(self, check: TransactionStatusCheck) -> str:
        return self._summary(check)["ledger"]

    @admin.display(description="sent (Nairobi)", ordering="created_at")
    def sent_column(self, check: TransactionStatusCheck) -> str:
        return self._summary(check)["sent_at"]

    @admin.display(description="M-Pesa's result")
    def result_column(self, check: TransactionStatusCheck) -> str:
        return self._summary(check)["result"]


@admin.register(TransactionStatusCheck)
class TransactionStatusCheckAdmin(
    _CheckColumns, display.ReadOnlyMixin, admin.ModelAdmin
):
    """Every Transaction Status query sent, and what M-Pesa answered."""

    list_display = (
        "asked_column",
        "sent_column",
        *_ANSWER_FIELDS,
        "refund_column",
        "requested_by",
    )
    list_filter = ("state",)
    search_fields = ("transaction_id", "original_conversation_id")
    list_per_page = 50
    fields = (
        "asked_column",
        "refund_column",
        "requested_by",
        "sent_column",
        "result_column",
        *_ANSWER_FIELDS,
        "conversation_id",
        "originator_conversation_id",
    )
    readonly_fields = fields

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        user = request.user
        return user.has_perm(VERIFY_PERMISSION) or user.has_perm(VIEW_PERMISSION)

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("requested_by")

    def get_urls(self) -> list:
        verify = self.admin_site.admin_view(lambda r: verify_view(self, r))
        name = f"{self.opts.app_label}_{self.opts.model_name}_verify"
        return [path("verify/", verify, name=name), *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra = {"verify_url": verify_url()}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    @admin.display(description="asked about")
    def asked_column(self, check: TransactionStatusCheck) -> SafeString | str:
        if check.transaction_id:
            return format_html(
                '<a href="{}">{}</a>',
                verify_url(check.transaction_id),
                check.transaction_id,
            )
        return check.original_conversation_id or "-"

    @admin.display(description="refund")
    def refund_column(self, check: TransactionStatusCheck) -> SafeString | str:
        if check.refund_id is None:
            return "-"
        try:
            url = reverse("admin:payments_refund_change", args=[check.refund_id])
        except NoReverseMatch:  # the refund admin is not registered
            return f"Refund {check.refund_id}"
        return format_html('<a href="{}">Refund {}</a>', url, check.refund_id)


class RefundStatusCheckInline(
    _CheckColumns, display.ReadOnlyMixin, admin.TabularInline
):
    """The refund page's status checks (add to the refund admin's inlines)."""

    model = TransactionStatusCheck
    fk_name = "refund"
    extra = 0
    can_delete = False
    fields = ("sent_column", "result_column", *_ANSWER_FIELDS)
    readonly_fields = fields
    verbose_name_plural = "Transaction Status checks (M-Pesa's answers)"

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        user = request.user
        return user.has_perm(VERIFY_PERMISSION) or user.has_perm("payments.view_refund")
