"""A definite failure M-Pesa's own record contradicts (rule 4).

Issue 15 recovers only a payment that failed for no answer (1037). One
that M-Pesa said failed for certain (1032 cancelled, 1 insufficient
funds, 2001 wrong PIN) but whose STK money the statement shows is a
contradiction: the payment goes to review through its owner, carrying
the receipt, and the money is recorded unallocated (``unknown_payment``)
for staff, never paid to the booking silently and never counted twice.
"""

from dataclasses import replace

from bookings.models import Booking
from payments.models import MpesaReceipt, Payment
from payments.result_codes import failure_kind
from payments.services.transitions import payment_review_paid_after_failure
from statements.models import Outcome
from statements.rows import StatementRow
from statements.services.facts import LineResult, is_stk_row, line_unallocated

Reason = MpesaReceipt.UnallocatedReason
NO_ANSWER = "1037"


def payments_failed_for_certain(
    booking: Booking | None, row: StatementRow
) -> list[Payment]:
    """The payments of ``booking`` for the row's amount that M-Pesa said
    failed for certain (a result such as 1032 cancelled, 1 insufficient
    funds, 2001 wrong PIN; not 1037 no answer), when the row is an STK
    payment: its money contradicts that answer. A Paybill row is the
    customer paying another way. A plain read; the owner locks."""
    if booking is None or not is_stk_row(row):
        return []
    failed = Payment.objects.filter(
        booking=booking,
        amount=row.paid_in,
        status=Payment.Status.FAILED,
        mpesa_receipt_number__isnull=True,
    ).order_by("pk")
    return [p for p in failed if p.result_code.isdigit() and p.result_code != NO_ANSWER]


def failure_contradicted(
    row: StatementRow, failed: list[Payment], booking: Booking, source: str
) -> LineResult:
    """The failed payment goes to review (through its owner, locked before
    the receipt); the money is recorded unallocated, never paid to the
    booking silently, for staff to complete the payment or refund it."""
    if len(failed) > 1:
        detail = (
            f"{len(failed)} failed payments of booking {booking.reference} "
            "could own it: M-Pesa shows it paid"
        )
        return line_unallocated(row, source, Reason.UNKNOWN_PAYMENT, booking, detail)
    payment = failed[0]
    detail = (
        f"payment {payment.pk} failed with result {payment.result_code} "
        f"({failure_kind(payment.result_code)}), but M-Pesa shows receipt "
        f"{row.receipt_number} paid for it: payment sent to review"
    )
    change = payment_review_paid_after_failure(
        payment_id=payment.pk, receipt=row.receipt_number, reason=detail
    )
    if not change.changed:
        detail = f"payment {payment.pk} became {change.payment.status} meanwhile"
    result = line_unallocated(row, source, Reason.UNKNOWN_PAYMENT, booking, detail)
    if result.outcome != Outcome.UNALLOCATED:
        return result
    return replace(result, payment_id=payment.pk)
