"""The payments inline on the booking page: a booking's payments, read-only.

It is attached to ``bookings.admin.BookingAdmin`` from the payments side
(see ``payments/admin/__init__.py``) so bookings never depends on payments.
Phone numbers are masked unless the user may see them in full
(``display.fields_for``).
"""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.safestring import SafeString

from core.money import format_kes
from payments.admin import display
from payments.models import Payment


class BookingPaymentInline(display.ReadOnlyMixin, admin.TabularInline):
    """A booking's payments, shown read-only on the booking page."""

    model = Payment
    fk_name = "booking"
    extra = 0
    can_delete = False
    ordering = ("-created_at", "-id")
    fields = (
        "link",
        "created_at",
        "amount_column",
        "status_column",
        "phone",
        "result_code",
        "failure_reason",
        "mpesa_receipt_number",
    )
    readonly_fields = (*fields, "phone_full")
    verbose_name_plural = "Payments"

    def get_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return display.fields_for(request, self.fields, {"phone": "phone_full"})

    @admin.display(description="payment")
    def link(self, payment: Payment) -> SafeString:
        return display.payment_link(payment.pk)

    @admin.display(description="amount")
    def amount_column(self, payment: Payment) -> str:
        return format_kes(payment.amount)

    @admin.display(description="status")
    def status_column(self, payment: Payment) -> SafeString:
        return display.status_badge(payment.status)

    @admin.display(description="phone")
    def phone(self, payment: Payment) -> str:
        return display.masked_phone(payment.phone_number)

    @admin.display(description="phone")
    def phone_full(self, payment: Payment) -> str:
        return display.full_phone(payment.phone_number)
