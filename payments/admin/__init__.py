"""Staff console for payments (Django admin).

Registers ``Payment`` (read-only, with re-query / resolve / export
actions and the reconciliation page) and ``PaymentEvent`` (read-only),
and adds the payments inline to the bookings admin.
"""

from bookings.admin import BookingAdmin
from payments.admin.events import PaymentEventAdmin, PaymentEventInline
from payments.admin.payment import BookingPaymentInline, PaymentAdmin

if BookingPaymentInline not in BookingAdmin.inlines:
    BookingAdmin.inlines = (*BookingAdmin.inlines, BookingPaymentInline)

__all__ = ["PaymentAdmin", "PaymentEventAdmin", "PaymentEventInline"]
