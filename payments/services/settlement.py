"""Transition owners for what Daraja reports: money that moved, or not.

``payment_record_success`` and ``payment_record_failure`` are the only ways
a report (callback, STK query, later C2B) changes a payment. Each locks the
payment inside its own transaction, decides from the report and the
payment's state which transition it means (``reports.report_problem``
decides whether a success adds up), confirms the booking or sends it to a
refund, and is idempotent when the same report comes again.
"""

import logging

from django.db import IntegrityError, transaction

from bookings.services import BookingPaymentOutcome, booking_mark_paid
from payments.models import MpesaReceipt, MpesaReceiptSighting, Payment
from payments.result_codes import failure_reason
from payments.selectors import payment_receipt_held_elsewhere
from payments.services.callback_lock import payment_lock_with_receipt_facts
from payments.services.events import event_record_note
from payments.services.ledger import (
    LedgerClaim,
    ReceiptTakenMeanwhileError,
    receipt_claim_for_payment,
    receipt_claim_locked,
    receipt_record_from_report,
    receipt_sighting,
    receipt_take_for_payment,
    report_sighting_source,
)
from payments.services.paybill_copy import paybill_copy_problem
from payments.services.reports import (
    ReportProblem,
    SuccessReport,
    receipt_is_valid,
    report_problem,
    storable_amount,
)
from payments.services.transitions import PaymentChange, lock_payment, move

logger = logging.getLogger(__name__)
Status = Payment.Status
ReviewCode = Payment.ReviewCode
Allocation = MpesaReceipt.Allocation


def payment_record_success(
    *,
    report: SuccessReport,
    payment_id: int | None = None,
    checkout_request_id: str | None = None,
) -> PaymentChange | None:
    """Record money that moved, for the payment with that id or
    CheckoutRequestID (None when no payment has that CheckoutRequestID).

    Completed and the booking confirmed when everything adds up;
    ``needs_review`` (with a ``review_code`` and a reason) when the report
    does not add up, the receipt is already on another payment, or the
    booking can no longer be confirmed. Never loses the money; a repeat of
    the same report changes nothing.
    """
    with transaction.atomic():
        payment = _locate_and_lock(
            payment_id=payment_id,
            checkout_request_id=checkout_request_id,
            receipt=report.mpesa_receipt_number,
        )
        if payment is None:
            return None
        before = payment.status
        _settle_success(
            payment,
            report,
            receipt_elsewhere=getattr(payment, "receipt_elsewhere", None),
        )
    return PaymentChange(payment, before)


def payment_record_failure(
    *,
    result_code: str,
    result_desc: str,
    source: str,
    payment_id: int | None = None,
    checkout_request_id: str | None = None,
) -> PaymentChange | None:
    """Record a final failure (None when no payment has that
    CheckoutRequestID). A failure never overrides money that moved: a
    completed payment goes to ``needs_review``."""
    with transaction.atomic():
        payment = _locate_and_lock(
            payment_id=payment_id, checkout_request_id=checkout_request_id
        )
        if payment is None:
            return None
        before = payment.status
        _settle_failure(
            payment, result_code=result_code, result_desc=result_desc, source=source
        )
    return PaymentChange(payment, before)


def _locate_and_lock(
    *,
    payment_id: int | None,
    checkout_request_id: str | None,
    receipt: str | None = None,
) -> Payment | None:
    """Lock the payment by id (must exist) or CheckoutRequestID (may not).

    By CheckoutRequestID (a callback), one statement finds and locks it and
    learns whether another payment already holds the report's receipt.
    """
    if payment_id is not None:
        return lock_payment(payment_id=payment_id)
    if receipt:
        return payment_lock_with_receipt_facts(
            checkout_request_id=checkout_request_id, receipt=receipt
        )
    payments = Payment.objects.select_for_update(of=("self",))
    try:
        return payments.get(checkout_request_id=checkout_request_id)
    except Payment.DoesNotExist:
        return None


def _settle_success(
    payment: Payment, report: SuccessReport, *, receipt_elsewhere: bool | None = None
) -> None:
    """Record money that moved for a locked payment, whatever its state.

    Completed and confirmed when everything adds up; ``needs_review`` (with
    a ``review_code`` and a reason) when the report does not add up (amount,
    receipt), the receipt is already on another payment, or the booking can
    no longer be confirmed. Never loses the money.
    ``receipt_elsewhere``: whether another payment already holds the
    report's receipt, when the caller looked it up with the lock (None:
    look it up here).
    """
    if _heard_success_before(payment, report):
        _settle_repeat_success(payment, report)
        return
    try:
        # A savepoint: when another payment commits the same receipt while
        # we hold ours (two reports at one moment), the unique constraint
        # refuses this one, and it goes to review instead of staying open.
        # When the receipt turns out someone else's under its lock (staff
        # allocated it after our plain read), everything paid here is undone.
        with transaction.atomic():
            _settle_first_success(payment, report, receipt_elsewhere)
    except IntegrityError:
        if not _receipt_held_by_another(payment, report.mpesa_receipt_number):
            raise
        payment.refresh_from_db()
        _settle_first_success(payment, report, receipt_elsewhere=True)
    except ReceiptTakenMeanwhileError as lost:
        payment.refresh_from_db()
        _settle_on_lost_receipt(payment, report, lost)


# Reviews of a success whose report carried no usable receipt (or that
# Daraja contradicted), so the booking was never paid: M-Pesa's own record
# of the receipt is the first success that adds up.
_RECEIPT_LESS_REVIEWS = (
    ReviewCode.RECEIPT_MISSING,
    ReviewCode.RECEIPT_INVALID,
    ReviewCode.CONTRADICTED,
)
_OWN_RECORD_SOURCES = (
    MpesaReceiptSighting.Source.STATEMENT,
    MpesaReceiptSighting.Source.PULL,
)


def _heard_success_before(payment: Payment, report: SuccessReport) -> bool:
    """Completed, or in review for a report. A payment in review only
    because its push's outcome was unknown (``outcome_unknown``, no receipt)
    has heard nothing yet: this report is its first. So has one in review
    for a receipt-less success that never completed, when ``report`` is
    M-Pesa's own record (statement, Pull) with the receipt."""
    if payment.status == Status.COMPLETED:
        return True
    if payment.status != Status.NEEDS_REVIEW or payment.mpesa_receipt_number:
        return payment.status == Status.NEEDS_REVIEW
    if payment.review_code == ReviewCode.OUTCOME_UNKNOWN:
        return False
    recoverable = (
        payment.review_code in _RECEIPT_LESS_REVIEWS
        and report.source in _OWN_RECORD_SOURCES
        and not payment.events.filter(to_status=Status.COMPLETED).exists()
    )
    return not recoverable


def _settle_first_success(
    payment: Payment, report: SuccessReport, receipt_elsewhere: bool | None
) -> None:
    receipt = report.mpesa_receipt_number
    if receipt_elsewhere is None:
        receipt_elsewhere = _receipt_held_by_another(payment, receipt)
    ledger_id, claim = _ledger_claim(payment, receipt, receipt_elsewhere)
    receipt_elsewhere = receipt_elsewhere or claim == LedgerClaim.FOREIGN
    problem = report_problem(payment, report, receipt_elsewhere=receipt_elsewhere)
    keep_receipt = receipt_is_valid(receipt) and not receipt_elsewhere
    fields = _success_fields(report, keep_receipt=keep_receipt)
    if problem:
        _to_review(payment, problem, **fields)
        receipt_record_from_report(payment, report, problem.code)
        return
    if claim == LedgerClaim.UNCLAIMED:
        # The claim was a plain read: read it again under the booking's and
        # the receipt's locks before this money pays the booking.
        claim = receipt_claim_locked(receipt_id=ledger_id, payment=payment)
        if claim == LedgerClaim.FOREIGN:
            raise ReceiptTakenMeanwhileError(MpesaReceipt.objects.get(pk=ledger_id))
    if claim == LedgerClaim.PAID_BOOKING:
        _complete_as_paybill_money(payment, report, ledger_id, fields)
        return
    outcome = booking_mark_paid(booking_id=payment.booking_id)
    if outcome == BookingPaymentOutcome.ALREADY_PAID and claim is None:
        # The lock waited for a C2B confirmation of this receipt that paid
        # the booking; the lookup beside the lock read the ledger before it
        # committed. Read it again (this path is rare) before a review.
        payment.ledger_receipt_id = _NOT_LOOKED_UP
        ledger_id, claim = _ledger_claim(payment, receipt, receipt_elsewhere)
        if claim == LedgerClaim.PAID_BOOKING:
            _complete_as_paybill_money(payment, report, ledger_id, fields)
            return
    if outcome == BookingPaymentOutcome.CONFIRMED:
        reason = f"paid ({report.source})"
        move(payment, to=Status.COMPLETED, reason=reason, **fields)
        if claim == LedgerClaim.UNCLAIMED:
            _take_receipt(ledger_id, payment, report)
        else:
            receipt_record_from_report(payment, report, None)
    else:
        code = f"booking_{outcome.name.lower()}"
        problem = ReportProblem(code, _BOOKING_PROBLEMS[code])
        if outcome == BookingPaymentOutcome.ALREADY_PAID:
            problem = paybill_copy_problem(payment, report) or problem
        _to_review(payment, problem, **fields)
        receipt_record_from_report(payment, report, problem.code)


def _complete_as_paybill_money(
    payment: Payment, report: SuccessReport, ledger_id: int, fields: dict
) -> None:
    """The same money already paid the booking through its Paybill
    confirmation (a double notification, C2B first): this payment completes
    as that money; the booking is not confirmed again."""
    receipt = report.mpesa_receipt_number
    reason = f"paid ({report.source}); receipt {receipt} had paid the booking"
    move(payment, to=Status.COMPLETED, reason=reason, **fields)
    _take_receipt(ledger_id, payment, report)


def _ledger_claim(
    payment: Payment, receipt: str | None, receipt_elsewhere: bool
) -> tuple[int | None, LedgerClaim | None]:
    """The ledger row of the report's receipt and whose money it is
    (None, None when the ledger does not hold it). The rule: a receipt
    the ledger already holds for this booking, or holds unallocated with
    this payment's amount, is this payment's money."""
    if receipt_elsewhere or not receipt_is_valid(receipt):
        return None, None
    ledger_id = getattr(payment, "ledger_receipt_id", _NOT_LOOKED_UP)
    if ledger_id is _NOT_LOOKED_UP:
        ledger_id = (
            MpesaReceipt.objects.filter(receipt_number=receipt)
            .values_list("pk", flat=True)
            .first()
        )
    if ledger_id is None:
        return None, None
    return ledger_id, receipt_claim_for_payment(receipt_id=ledger_id, payment=payment)


_NOT_LOOKED_UP = object()


def _take_receipt(ledger_id: int, payment: Payment, report: SuccessReport) -> None:
    """Take the receipt for the payment; raises ``ReceiptTakenMeanwhileError``
    (the caller's savepoint undoes the settlement) when it changed since
    the claim was read."""
    taken = receipt_take_for_payment(
        receipt_id=ledger_id,
        payment=payment,
        source=report_sighting_source(report),
        event_id=report.event_id,
    )
    if not taken:
        raise ReceiptTakenMeanwhileError(MpesaReceipt.objects.get(pk=ledger_id))


def _settle_on_lost_receipt(
    payment: Payment, report: SuccessReport, lost: ReceiptTakenMeanwhileError
) -> None:
    """The report's receipt became someone else's while this payment
    settled on it: nothing is paid, the receipt stays where it is (one
    more sighting), and staff see why in the review."""
    problem = _lost_receipt_problem(lost)
    if _heard_success_before(payment, report):
        _review_if_completed(payment, problem)
    else:
        _to_review(payment, problem, **_success_fields(report, keep_receipt=False))
    receipt_sighting(
        receipt_number=lost.receipt_number,
        source=report_sighting_source(report),
        event_id=report.event_id,
    )


def _lost_receipt_problem(lost: ReceiptTakenMeanwhileError) -> ReportProblem:
    return ReportProblem(
        ReviewCode.RECEIPT_DUPLICATE,
        f"receipt {lost.receipt_number} was {lost.where} while this payment "
        "settled on it; nothing was paid: check whose money it is",
    )


_BOOKING_PROBLEMS = {
    ReviewCode.BOOKING_ALREADY_PAID: (
        "booking was already paid by another payment; refund due"
    ),
    ReviewCode.BOOKING_REFUND_DUE: "booking can no longer be confirmed; refund due",
}


def _to_review(payment: Payment, problem: ReportProblem, **fields: object) -> None:
    if payment.status == Status.NEEDS_REVIEW:
        # In review already (its push's outcome was unknown): the report's
        # problem replaces that reason; the status does not change.
        fields["review_code"] = problem.code
        for name, value in fields.items():
            setattr(payment, name, value)
        payment.save(update_fields=[*fields, "updated_at"])
        event_record_note(payment, f"still in review: {problem.reason}")
        return
    move(
        payment,
        to=Status.NEEDS_REVIEW,
        reason=problem.reason,
        review_code=problem.code,
        **fields,
    )


def _receipt_held_by_another(payment: Payment, receipt: str | None) -> bool:
    return receipt_is_valid(receipt) and payment_receipt_held_elsewhere(
        receipt=receipt, payment_id=payment.pk
    )


def _success_fields(report: SuccessReport, *, keep_receipt: bool) -> dict:
    fields: dict[str, object] = {
        "result_code": report.result_code[:32],
        "result_desc": report.result_desc[:255],
        "failure_reason": "",
    }
    if keep_receipt:
        fields["mpesa_receipt_number"] = report.mpesa_receipt_number
    if storable_amount(report.paid_amount) is not None:
        fields["paid_amount"] = report.paid_amount
    if report.transaction_date is not None:
        fields["transaction_date"] = report.transaction_date
    if report.paid_phone_number:
        fields["paid_phone_number"] = report.paid_phone_number[:32]
    return fields


def _settle_repeat_success(payment: Payment, report: SuccessReport) -> None:
    """A settled payment hears of its success again (duplicate or late
    callback, re-query). A duplicate changes nothing; a report that does
    not add up sends a completed payment to review; a first receipt is
    recorded."""
    receipt = report.mpesa_receipt_number
    if receipt and receipt == payment.mpesa_receipt_number:
        # The same report again: one more sighting, never a second row.
        receipt_sighting(
            receipt_number=receipt,
            source=report_sighting_source(report),
            event_id=report.event_id,
        )
        return
    if payment.mpesa_receipt_number and receipt:
        # One CheckoutRequestID, two receipts: money may have moved twice.
        problem = ReportProblem(
            ReviewCode.SECOND_RECEIPT,
            f"a second receipt {receipt[:20]} was reported for this payment",
        )
        _review_if_completed(payment, problem)
        receipt_record_from_report(payment, report, problem.code)
        return
    elsewhere = _receipt_held_by_another(payment, receipt)
    ledger_id, claim = _ledger_claim(payment, receipt, elsewhere)
    elsewhere = elsewhere or claim == LedgerClaim.FOREIGN
    problem = report_problem(payment, report, receipt_elsewhere=elsewhere)
    if problem:
        # Keep what the report says beside the review (staff compare it).
        keep = receipt_is_valid(receipt) and not elsewhere
        _review_if_completed(
            payment, problem, **_success_fields(report, keep_receipt=keep)
        )
        receipt_record_from_report(payment, report, problem.code)
        return
    if not receipt:
        return  # e.g. a re-query: nothing new
    fields = _success_fields(report, keep_receipt=True)
    try:
        with transaction.atomic():  # a savepoint, as in _settle_success
            for name, value in fields.items():
                setattr(payment, name, value)
            payment.save(update_fields=[*fields, "updated_at"])
            if claim is None:
                receipt_record_from_report(payment, report, None)
            else:  # recorded first by a confirmation: this payment's money
                _take_receipt(ledger_id, payment, report)
    except IntegrityError:
        if not _receipt_held_by_another(payment, receipt):
            raise
        payment.refresh_from_db()
        problem = ReportProblem(
            ReviewCode.RECEIPT_DUPLICATE,
            f"receipt {receipt} is already recorded on another payment",
        )
        _review_if_completed(payment, problem)
        return
    except ReceiptTakenMeanwhileError as lost:
        payment.refresh_from_db()
        _settle_on_lost_receipt(payment, report, lost)
        return
    event_record_note(
        payment,
        f"receipt {receipt} recorded ({report.source})",
    )


def _review_if_completed(
    payment: Payment, problem: ReportProblem, **fields: object
) -> None:
    if payment.status == Status.COMPLETED:
        _to_review(payment, problem, **fields)
        return
    event_record_note(
        payment,
        f"while in review: {problem.reason}",
    )


def _settle_failure(
    payment: Payment, *, result_code: str, result_desc: str, source: str
) -> None:
    """Record a final failure for a locked payment.

    A failure never overrides money that moved: a completed payment goes
    to ``needs_review`` (one of the two reports is not from Daraja); for a
    payment already failed or in review it is only noted in the log.
    """
    if payment.status == Status.COMPLETED:
        problem = ReportProblem(
            ReviewCode.FAILURE_AFTER_COMPLETION,
            f"failure {result_code[:32]} reported by {source} for a completed "
            "payment: one of the two reports is not from Daraja",
        )
        _to_review(payment, problem)
        return
    if payment.status in (Status.NEEDS_REVIEW, Status.FAILED):
        event_record_note(
            payment,
            f"ignored failure {result_code[:32]} from {source}: payment "
            f"is already {payment.status}",
        )
        return
    move(
        payment,
        to=Status.FAILED,
        reason=f"result {result_code[:32]} ({source})",
        result_code=result_code[:32],
        result_desc=result_desc[:255],
        failure_reason=failure_reason(result_code, result_desc)[:255],
    )
