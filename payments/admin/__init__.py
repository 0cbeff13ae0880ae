"""Staff console for payments (Django admin).

Registers ``Payment`` (read-only, with re-query / resolve / export
actions and the reconciliation page), ``PaymentEvent`` (read-only), the
receipts ledger (``MpesaReceipt``, read-only, and "Unallocated money" with
its allocate / mark-for-refund actions), ``Refund`` (the refunds queue,
read-only, with its request / approve / reject / cancel pages and its
Transaction Status checks), Transaction Status checks with "Verify with
M-Pesa", and adds the payments and refunds inlines to the bookings admin.
"""

from bookings.admin import BookingAdmin
from payments.admin.booking_payments import BookingPaymentInline
from payments.admin.events import PaymentEventAdmin, PaymentEventInline
from payments.admin.payment import PaymentAdmin
from payments.admin.receipts import MpesaReceiptAdmin, UnallocatedReceiptAdmin
from payments.admin.refund_display import BookingRefundInline
from payments.admin.refunds import RefundAdmin
from payments.admin.status_checks import (
    RefundStatusCheckInline,
    TransactionStatusCheckAdmin,
)

if RefundStatusCheckInline not in RefundAdmin.inlines:
    RefundAdmin.inlines = (*RefundAdmin.inlines, RefundStatusCheckInline)
for _inline in (BookingPaymentInline, BookingRefundInline):
    if _inline not in BookingAdmin.inlines:
        BookingAdmin.inlines = (*BookingAdmin.inlines, _inline)

__all__ = [
    "MpesaReceiptAdmin",
    "PaymentAdmin",
    "PaymentEventAdmin",
    "PaymentEventInline",
    "RefundAdmin",
    "RefundStatusCheckInline",
    "TransactionStatusCheckAdmin",
    "UnallocatedReceiptAdmin",
]
