"""A payment its own Paybill copy closed, then reported paid by a query.

A C2B confirmation that pays a booking closes the booking's open STK
payment "paid by Paybill, receipt X" (``payment_close_paid_elsewhere``):
the customer often pays the prompt and Safaricom also reports it to the
Paybill URL. An STK Query success for that payment later carries no
receipt, so it cannot tell one payment from two. It is probably the same
money: the payment goes to review ``paid_by_paybill_copy`` naming X (not
``booking_already_paid``, which tells staff to refund), and staff may
complete it with X, which links the receipt to the payment.
"""

from payments.models import MpesaReceipt, Payment
from payments.services.reports import ReportProblem, SuccessReport

ReviewCode = Payment.ReviewCode
# The reason ``payment_close_paid_elsewhere`` gives, then the receipt.
PAID_BY_PAYBILL = "paid by Paybill, receipt "


def paybill_copy_problem(
    payment: Payment, report: SuccessReport
) -> ReportProblem | None:
    """The review for a receipt-less success of a payment that Paybill
    receipt X closed, when X still pays its booking for the payment's
    amount; None otherwise (the caller's ``booking_already_paid``)."""
    if payment.status != Payment.Status.FAILED or report.mpesa_receipt_number:
        return None
    if not payment.failure_reason.startswith(PAID_BY_PAYBILL):
        return None
    receipt = payment.failure_reason.removeprefix(PAID_BY_PAYBILL).strip()
    if paybill_copy_receipt_id(payment=payment, receipt=receipt) is None:
        return None
    return ReportProblem(
        ReviewCode.PAID_BY_PAYBILL_COPY,
        f"{report.source} says this prompt was paid; the booking was paid by "
        f"Paybill receipt {receipt}, which closed this payment. Probably the "
        "same money (a query cannot tell one payment from two): if the "
        f"statement shows one payment, complete this payment with {receipt}.",
    )


def paybill_copy_receipt_id(*, payment: Payment, receipt: str) -> int | None:
    """The ledger row of Paybill receipt ``receipt`` when it is the money
    that paid ``payment``'s booking, for its amount, taken by no payment and
    not marked for refund; None otherwise. A plain read: the row is taken
    by a guarded UPDATE (``ledger.receipt_take_for_payment``)."""
    return (
        MpesaReceipt.objects.filter(
            receipt_number=receipt,
            channel=MpesaReceipt.Channel.PAYBILL,
            allocation=MpesaReceipt.Allocation.ALLOCATED,
            booking_id=payment.booking_id,
            payment__isnull=True,
            amount=payment.amount,
            refund_marked_at__isnull=True,
        )
        .values_list("pk", flat=True)
        .first()
    )
