"""Staff console for payments (Django admin).

Registers ``Payment`` (read-only, with re-query / resolve / export
actions and the reconciliation page), ``PaymentEvent`` (read-only), the
receipts ledger (``MpesaReceipt``, read-only, and "Unallocated money" with
its allocate / mark-for-refund actions), Transaction Status checks with
"Verify with M-Pesa", and adds the payments inline to
the bookings admin.
"""

from bookings.admin import BookingAdmin
from payments.admin.events import PaymentEventAdmin, PaymentEventInline
from payments.admin.payment import BookingPaymentInline, PaymentAdmin
from payments.admin.receipts import MpesaReceiptAdmin, UnallocatedReceiptAdmin
from payments.admin.status_checks import (
    RefundStatusCheckInline,
    TransactionStatusCheckAdmin,
)

if BookingPaymentInline not in BookingAdmin.inlines:
    BookingAdmin.inlines = (*BookingAdmin.inlines, BookingPaymentInline)

__all__ = [
    "MpesaReceiptAdmin",
    "PaymentAdmin",
    "PaymentEventAdmin",
    "PaymentEventInline",
    "RefundStatusCheckInline",
    "TransactionStatusCheckAdmin",
    "UnallocatedReceiptAdmin",
]
