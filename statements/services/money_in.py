"""Money paid in, as M-Pesa's record shows it (rules 3 and 4).

A receipt the ledger holds is ``matched`` (one more sighting) or, when the
amounts differ, ``amount_mismatch`` (its payment to review). A receipt it
lacks is recorded through the ledger (source ``statement`` or ``pull``):
paid to the one STK payment of the booking its account number names that
may have lost its callback (``recovered``: the payment settles through
``settlement.payment_record_success``), else to that booking if it awaits
exactly this amount (``allocated``, through ``booking_mark_paid`` as a
Paybill confirmation does), else ``unallocated`` with the reason. No
payment or booking is locked or moved here except through their owners.
"""

from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from bookings.models import Booking
from bookings.selectors import booking_find_by_reference
from bookings.services import BookingPaymentOutcome, booking_mark_paid
from core.money import format_kes
from payments.models import MpesaReceipt, Payment
from payments.services.c2b_allocation import lock_open_payment_of_booking
from payments.services.ledger import (
    ReceiptTakenMeanwhileError,
    receipt_peek,
    receipt_record,
    receipt_sighting,
)
from payments.services.reports import SuccessReport
from payments.services.settlement import payment_record_success
from payments.services.transitions import (
    payment_close_paid_elsewhere,
    payment_send_to_review,
)
from statements.models import Outcome
from statements.rows import StatementRow
from statements.services.facts import (
    LineResult,
    line_unallocated,
    receipt_facts,
    row_party,
)
from statements.services.failed_paid import (
    failure_contradicted,
    payments_failed_for_certain,
)

Status = Payment.Status
Reason = MpesaReceipt.UnallocatedReason
Allocation = MpesaReceipt.Allocation
# Reviews of a success with no usable receipt: the settlement takes M-Pesa's
# row as that payment's first success (``settlement._heard_success_before``).
_RECEIPT_LESS = (
    Payment.ReviewCode.OUTCOME_UNKNOWN,
    Payment.ReviewCode.RECEIPT_MISSING,
    Payment.ReviewCode.RECEIPT_INVALID,
    Payment.ReviewCode.CONTRADICTED,
)


def money_in_apply(*, row: StatementRow, source: str) -> LineResult:
    """Rules 3 and 4 for a completed paid-in row. Idempotent per receipt:
    a row applied again finds its receipt in the ledger (``matched``)."""
    known = receipt_peek(row.receipt_number)
    if known is not None:
        return _known(row, known, source)
    booking = _booking(row)
    candidates = _lost_callback_payments(booking, row.paid_in)
    if len(candidates) == 1:
        return _recover(row, candidates[0], source)
    if len(candidates) > 1:
        detail = (
            f"{len(candidates)} payments of booking {booking.reference} could own it"
        )
        return line_unallocated(row, source, Reason.UNKNOWN_PAYMENT, booking, detail)
    failed = payments_failed_for_certain(booking, row)
    if failed:
        return failure_contradicted(row, failed, booking, source)
    return _pay_booking(row, booking, source)


def _known(row: StatementRow, receipt: MpesaReceipt, source: str) -> LineResult:
    """One more sighting; the payment to review first when the amounts
    differ (lock order: payment, then receipt)."""
    payment_id = receipt.payment_id or (
        Payment.objects.filter(mpesa_receipt_number=row.receipt_number)
        .values_list("pk", flat=True)
        .first()
    )
    links = {
        "receipt_id": receipt.pk,
        "payment_id": payment_id,
        "booking_id": receipt.booking_id,
    }
    if receipt.amount == row.paid_in and receipt.direction == "in":
        receipt_sighting(receipt_number=row.receipt_number, source=source)
        return LineResult(Outcome.MATCHED, **links)
    detail = (
        f"the statement shows {format_kes(row.paid_in)} paid in for receipt "
        f"{row.receipt_number}; the ledger has {format_kes(receipt.amount)} "
        f"({receipt.get_direction_display().lower()})"
    )
    if payment_id is not None:
        payment_send_to_review(
            payment_id=payment_id,
            code=Payment.ReviewCode.STATEMENT_AMOUNT_MISMATCH,
            reason=detail,
            only_if_open=False,
        )
    receipt_sighting(receipt_number=row.receipt_number, source=source)
    return LineResult(Outcome.AMOUNT_MISMATCH, detail, **links)


def _booking(row: StatementRow) -> Booking | None:
    if not row.account_number.strip():
        return None
    return booking_find_by_reference(typed=row.account_number)


def _lost_callback_payments(booking: Booking | None, amount: int) -> list[Payment]:
    """The STK payments of ``booking`` for ``amount`` that may have taken
    this money without our hearing: pending, expired, failed for no answer
    (1037), in review of unknown outcome or of a success without a usable
    receipt, or completed by a query without a receipt. A plain read; the
    settlement locks and decides."""
    if booking is None:
        return []
    no_receipt = Q(mpesa_receipt_number__isnull=True)
    lost = (
        Q(status__in=[Status.PENDING, Status.EXPIRED])
        | Q(status=Status.FAILED, result_code="1037")
        | Q(no_receipt, status=Status.NEEDS_REVIEW, review_code__in=_RECEIPT_LESS)
        | Q(no_receipt, status=Status.COMPLETED)
    )
    return list(
        Payment.objects.filter(lost, booking=booking, amount=amount).order_by("pk")
    )


def _recover(row: StatementRow, payment: Payment, source: str) -> LineResult:
    """The payment settles on the row as on its lost callback."""
    phone, name = row_party(row)
    report = SuccessReport(
        source=source,
        requires_receipt=True,
        reports_amount=True,
        result_code="0",
        result_desc=f"M-Pesa {source} line {row.receipt_number}",
        mpesa_receipt_number=row.receipt_number,
        paid_amount=Decimal(row.paid_in),
        transaction_date=row.completion_time,
        paid_phone_number=phone,
    )
    change = payment_record_success(payment_id=payment.pk, report=report)
    receipt = receipt_peek(row.receipt_number)
    if receipt is None:
        # The settlement refused the report: the money is never lost.
        detail = f"payment {payment.pk} did not take it ({change.payment.status})"
        return line_unallocated(
            row, source, Reason.UNKNOWN_PAYMENT, payment.booking, detail
        )
    links = {
        "receipt_id": receipt.pk,
        "payment_id": payment.pk,
        "booking_id": payment.booking_id,
    }
    if receipt.payment_id == payment.pk:
        first = receipt.sightings.order_by("created_at", "id").first()
        if first is not None and first.source != source:
            # Its callback (or a copy) got there first: one receipt.
            return LineResult(Outcome.MATCHED, "its callback came meanwhile", **links)
        return LineResult(
            Outcome.RECOVERED, f"payment {payment.pk}: {change.payment.status}", **links
        )
    detail = f"payment {payment.pk} went to {change.payment.status}"
    return LineResult(
        Outcome.UNALLOCATED,
        detail,
        unallocated_reason=receipt.unallocated_reason,
        **links,
    )


def _pay_booking(row: StatementRow, booking: Booking | None, source: str) -> LineResult:
    """The booking the account number names, if it awaits this amount."""
    if booking is None:
        return line_unallocated(row, source, Reason.UNKNOWN_ACCOUNT, None, "")
    if booking.payment_status == Booking.PaymentStatus.PAID:
        return line_unallocated(row, source, Reason.DUPLICATE_PAYMENT, booking, "")
    payable = booking.payment_status == Booking.PaymentStatus.UNPAID and (
        booking.status in (Booking.Status.PENDING_PAYMENT, Booking.Status.EXPIRED)
    )
    if not payable:
        return line_unallocated(row, source, Reason.BOOKING_NOT_PAYABLE, booking, "")
    if row.paid_in != booking.amount:
        reason = Reason.UNDERPAID if row.paid_in < booking.amount else Reason.OVERPAID
        return line_unallocated(row, source, reason, booking, "")
    try:
        with transaction.atomic():
            return _confirm_booking(row, booking, source)
    except ReceiptTakenMeanwhileError as lost:
        receipt_sighting(receipt_number=row.receipt_number, source=source)
        detail = f"receipt {lost.receipt_number} was {lost.where} meanwhile"
        receipt = receipt_peek(row.receipt_number)
        return LineResult(
            Outcome.MATCHED, detail, receipt_id=receipt.pk if receipt else None
        )


def _confirm_booking(row: StatementRow, booking: Booking, source: str) -> LineResult:
    """Lock order as the Paybill confirmation's: the booking's open
    payment, then the booking (``booking_mark_paid``), then the receipt."""
    open_payment = lock_open_payment_of_booking(booking.pk)
    outcome = booking_mark_paid(booking_id=booking.pk)
    if outcome == BookingPaymentOutcome.ALREADY_PAID:
        detail = "booking paid meanwhile"
        return line_unallocated(row, source, Reason.DUPLICATE_PAYMENT, booking, detail)
    if outcome != BookingPaymentOutcome.CONFIRMED:
        # The booking is now refund_due: the receipt names it (its money,
        # to refund), unallocated, as for a Paybill confirmation.
        receipt = receipt_record(
            facts=receipt_facts(row, source),
            allocation=Allocation.UNALLOCATED,
            unallocated_reason=Reason.BOOKING_NOT_PAYABLE,
            booking_id=booking.pk,
        )
        return LineResult(
            Outcome.UNALLOCATED,
            f"booking {booking.reference} could no longer be confirmed: refund due",
            unallocated_reason=Reason.BOOKING_NOT_PAYABLE,
            receipt_id=receipt.pk,
            booking_id=booking.pk,
        )
    receipt = receipt_record(
        facts=receipt_facts(row, source),
        allocation=Allocation.ALLOCATED,
        booking_id=booking.pk,
    )
    if receipt.booking_id != booking.pk:
        raise ReceiptTakenMeanwhileError(receipt)
    if open_payment is not None:
        payment_close_paid_elsewhere(
            payment_id=open_payment, receipt=row.receipt_number
        )
    return LineResult(
        Outcome.ALLOCATED,
        f"booking {booking.reference} confirmed and paid",
        receipt_id=receipt.pk,
        booking_id=booking.pk,
    )
