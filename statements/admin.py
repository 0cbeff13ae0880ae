"""Statement imports in the admin: the imports with their summary and
discrepancies (each linking to its line, receipt, payment and booking),
the lines, and the "Import M-Pesa statement" upload page.

Read-only: lines and discrepancies change only through
``statements.services``. Viewing needs the view permissions, importing
``statements.import_statement`` (both Finance's, migration 0002).
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from payments.admin.display import ReadOnlyMixin
from statements.models import StatementDiscrepancy, StatementImport, StatementLine
from statements.parsing import StatementFormatError
from statements.services.importing import statement_import

IMPORT_PERMISSION = "statements.import_statement"
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
SUMMARY_KEYS = (
    "lines",
    "merged",
    "repeated",
    "matched",
    "recovered",
    "allocated",
    "unallocated",
    "amount_mismatch",
    "missing_from_statement",
    "conflicting_row",
    "unexplained_withdrawal",
    "refund",
    "charge",
    "settlement",
    "not_completed",
    "unusable",
    "paid_in_total",
    "withdrawn_total",
    "ledger_in_total",
    "ledger_out_total",
    "difference",
)


class UploadForm(forms.Form):
    statement = forms.FileField(
        label="Statement file",
        help_text="The org portal's export, CSV or XLSX, as downloaded.",
    )


def _link(model: str, pk: int | None, text: object) -> SafeString | str:
    if pk is None:
        return ""
    url = reverse(f"admin:{model}_change", args=[pk])
    return format_html('<a href="{}">{}</a>', url, text)


@admin.register(StatementImport)
class StatementImportAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("__str__", "source", "period_start", "period_end", "imported_by")
    list_filter = ("source",)
    fields = (
        "filename",
        "source",
        "sha256",
        "period_start",
        "period_end",
        "account_holder",
        "short_code",
        "opening_balance",
        "closing_balance",
        "imported_by",
        "created_at",
        "summary_table",
        "discrepancy_table",
    )
    readonly_fields = fields

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            path(
                "upload/",
                wrap(self.upload_view),
                name="statements_statementimport_upload",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra = {"can_import": request.user.has_perm(IMPORT_PERMISSION)}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def upload_view(self, request: HttpRequest):
        """Upload a statement and import it (one service call)."""
        if not request.user.has_perm(IMPORT_PERMISSION):
            raise PermissionDenied
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["statement"]
            if upload.size > MAX_UPLOAD_BYTES:
                form.add_error("statement", "The file is larger than 10 MB.")
            else:
                try:
                    result = statement_import(
                        data=upload.read(), filename=upload.name, user=request.user
                    )
                except StatementFormatError as exc:
                    form.add_error("statement", f"Not imported: {exc}")
                else:
                    text = "Imported." if result.created else "Imported before."
                    messages.success(request, text)
                    url = reverse(
                        "admin:statements_statementimport_change",
                        args=[result.statement_import.pk],
                    )
                    return HttpResponseRedirect(url)
        context = {
            **self.admin_site.each_context(request),
            "title": "Import M-Pesa statement",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(
            request, "admin/statements/statementimport/upload.html", context
        )

    @admin.display(description="summary (KES for totals)")
    def summary_table(self, obj: StatementImport) -> SafeString:
        rows = (
            (key.replace("_", " "), obj.summary.get(key, "")) for key in SUMMARY_KEYS
        )
        body = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows)
        return format_html("<table>{}</table>", body)

    @admin.display(description="discrepancies")
    def discrepancy_table(self, obj: StatementImport) -> SafeString:
        items = obj.summary.get("discrepancies", [])
        if not items:
            return format_html("{}", "none")
        rows = (
            (
                item["kind"].replace("_", " "),
                _link("statements_statementline", item["line_id"], "line"),
                _link("payments_mpesareceipt", item["receipt_id"], item["receipt"])
                or item["receipt"],
                _link("payments_payment", item["payment_id"], item["payment_id"]),
                _link("bookings_booking", item["booking_id"], item["booking_id"]),
                item["amount"],
                item["detail"],
            )
            for item in items
        )
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td><td>{}</td></tr>",
            rows,
        )
        head = (
            "<tr><th>kind</th><th>line</th><th>receipt</th><th>payment</th>"
            "<th>booking</th><th>KES</th><th>detail</th></tr>"
        )
        return format_html("<table>{}{}</table>", SafeString(head), body)


@admin.register(StatementLine)
class StatementLineAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "receipt_number",
        "direction",
        "amount",
        "outcome",
        "reason_type",
        "completion_time",
        "statement_import",
    )
    list_filter = ("outcome", "direction")
    search_fields = ("receipt_number", "account_number", "linked_transaction_id")
    exclude = ("receipt", "payment", "booking", "refund")
    readonly_fields = ("links",)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        names = [f.name for f in self.model._meta.fields if f.name not in self.exclude]
        return [*names, "links"]

    @admin.display(description="links")
    def links(self, obj: StatementLine) -> SafeString:
        parts = [
            _link("payments_mpesareceipt", obj.receipt_id, "receipt"),
            _link("payments_payment", obj.payment_id, "payment"),
            _link("bookings_booking", obj.booking_id, "booking"),
            _link("payments_refund", obj.refund_id, "refund"),
        ]
        return format_html_join(" ", "{}", ((part,) for part in parts if part))


@admin.register(StatementDiscrepancy)
class StatementDiscrepancyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "kind",
        "receipt_number",
        "amount",
        "payment",
        "booking",
        "statement_import",
    )
    list_filter = ("kind",)
    readonly_fields = (
        "statement_import",
        "kind",
        "receipt",
        "line",
        "payment",
        "booking",
    )
    # A conflicting row's raw is kept for the record; the detail says what
    # differs, and the row may name the payer unmasked (Pull's msisdn).
    exclude = ("raw",)
