"""The one place a payment's status changes.

Every change runs inside ``transaction.atomic()`` on a row locked with
``select_for_update()``, so a callback, a query and a staff action racing on
the same payment apply one after the other, each seeing the last one's
result. Outcomes (success, failure, expiry) are settled here from whatever
source reported them; ``source`` names it in the event log.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef

from bookings.services import BookingPaymentOutcome, booking_mark_paid
from payments.exceptions import InvalidPaymentTransition, PaymentNotFound
from payments.models import Payment, PaymentEvent
from payments.result_codes import failure_reason
from payments.services.events import event_record

logger = logging.getLogger(__name__)
Status = Payment.Status


@dataclass(frozen=True, slots=True)
class SuccessReport:
    """What a source says about money that moved (callback or query)."""

    source: str
    # A success callback without a receipt does not add up; a query answer
    # never carries one.
    requires_receipt: bool = False
    result_code: str = "0"
    result_desc: str = ""
    mpesa_receipt_number: str | None = None
    paid_amount: Decimal | None = None
    transaction_date: datetime | None = None
    paid_phone_number: str = ""


def payment_lock(*, payment_id: int) -> Payment:
    """Lock and return the payment; call inside ``transaction.atomic()``."""
    try:
        return Payment.objects.select_for_update().get(pk=payment_id)
    except Payment.DoesNotExist as exc:
        raise PaymentNotFound() from exc


def _log_extra(payment: Payment) -> dict:
    return {
        "payment_id": payment.pk,
        "checkout_request_id": payment.checkout_request_id,
        "booking_id": payment.booking_id,
    }


def apply_transition(
    payment: Payment, *, to: str, reason: str, actor=None, **fields: object
) -> bool:
    """Move a locked ``payment`` to ``to``, saving ``fields`` with it.

    Returns False (and changes nothing) when it is already at ``to``;
    raises ``InvalidPaymentTransition`` when the table forbids the move.
    Side effects: UPDATE of the payment, one status-change event.
    """
    if payment.status == to:
        logger.info("payment %s already %s", payment.pk, to, extra=_log_extra(payment))
        return False
    if not Payment.can_transition(payment.status, to):
        raise InvalidPaymentTransition(
            f"A payment cannot go from {payment.status} to {to}.",
            from_status=payment.status,
            to_status=to,
        )
    from_status = payment.status
    payment.status = to
    for name, value in fields.items():
        setattr(payment, name, value)
    payment.save(update_fields=["status", *fields, "updated_at"])
    event_record(
        kind=PaymentEvent.Kind.STATUS_CHANGE,
        payment_id=payment.pk,
        from_status=from_status,
        to_status=to,
        reason=reason,
        actor=actor,
        checkout_request_id=payment.checkout_request_id or "",
    )
    logger.info(
        "payment %s: %s -> %s (%s)",
        payment.pk,
        from_status,
        to,
        reason,
        extra=_log_extra(payment),
    )
    return True


def payment_transition(
    *, payment_id: int, to: str, reason: str, actor=None, **fields: object
) -> Payment:
    """Lock the payment and apply one guarded transition (see above)."""
    with transaction.atomic():
        payment = payment_lock(payment_id=payment_id)
        apply_transition(payment, to=to, reason=reason, actor=actor, **fields)
    return payment


def settle_success(
    payment: Payment, report: SuccessReport, *, receipt_elsewhere: bool | None = None
) -> None:
    """Record money that moved for a locked payment, whatever its state.

    Completed and confirmed when everything adds up; ``needs_review`` when
    the amount differs, the receipt is already on another payment, or the
    booking can no longer be confirmed. Never loses the money.
    ``receipt_elsewhere``: whether another payment already holds the
    report's receipt, when the caller looked it up with the lock (None:
    look it up here).
    """
    if payment.status in (Status.COMPLETED, Status.NEEDS_REVIEW):
        _fill_missing_receipt(payment, report)
        return
    problem = _success_problem(payment, report, receipt_elsewhere=receipt_elsewhere)
    fields = _success_fields(payment, report, keep_receipt=problem != "receipt")
    if problem:
        apply_transition(
            payment, to=Status.NEEDS_REVIEW, reason=_PROBLEMS[problem], **fields
        )
        return
    outcome = booking_mark_paid(booking_id=payment.booking_id)
    if outcome == BookingPaymentOutcome.CONFIRMED:
        reason = f"paid ({report.source})"
        apply_transition(payment, to=Status.COMPLETED, reason=reason, **fields)
    else:
        reason = _PROBLEMS[f"booking_{outcome.name.lower()}"]
        apply_transition(payment, to=Status.NEEDS_REVIEW, reason=reason, **fields)


_PROBLEMS = {
    "amount": "paid amount differs from the amount asked",
    "no_receipt": "success reported without an M-Pesa receipt",
    "receipt": "this receipt is already recorded on another payment",
    "booking_already_paid": "booking was already paid by another payment; refund due",
    "booking_refund_due": "booking can no longer be confirmed; refund due",
}


def receipt_held_elsewhere(receipt: str) -> Exists:
    """For ``annotate()``: another payment already holds ``receipt``."""
    others = Payment.objects.filter(mpesa_receipt_number=receipt)
    return Exists(others.exclude(pk=OuterRef("pk")))


def _success_problem(
    payment: Payment, report: SuccessReport, *, receipt_elsewhere: bool | None = None
) -> str | None:
    if report.paid_amount is not None and report.paid_amount != Decimal(payment.amount):
        return "amount"
    receipt = report.mpesa_receipt_number
    if report.requires_receipt and not receipt:
        return "no_receipt"
    if receipt and receipt_elsewhere is None:
        receipt_elsewhere = (
            Payment.objects.filter(mpesa_receipt_number=receipt)
            .exclude(pk=payment.pk)
            .exists()
        )
    return "receipt" if receipt and receipt_elsewhere else None


def _success_fields(
    payment: Payment, report: SuccessReport, *, keep_receipt: bool
) -> dict:
    fields: dict[str, object] = {
        "result_code": report.result_code,
        "result_desc": report.result_desc[:255],
        "failure_reason": "",
    }
    if keep_receipt and report.mpesa_receipt_number:
        fields["mpesa_receipt_number"] = report.mpesa_receipt_number
    if report.paid_amount is not None:
        fields["paid_amount"] = report.paid_amount
    if report.transaction_date is not None:
        fields["transaction_date"] = report.transaction_date
    if report.paid_phone_number:
        fields["paid_phone_number"] = report.paid_phone_number[:32]
    return fields


def _fill_missing_receipt(payment: Payment, report: SuccessReport) -> None:
    """A settled payment learns its receipt from a later callback."""
    receipt = report.mpesa_receipt_number
    if not receipt or payment.mpesa_receipt_number == receipt:
        return
    if payment.mpesa_receipt_number:
        # One CheckoutRequestID, two receipts: money may have moved twice.
        apply_transition(
            payment,
            to=Status.NEEDS_REVIEW,
            reason=f"a second receipt {receipt} was reported for this payment",
        )
        return
    problem = _success_problem(payment, report)
    if problem == "receipt":
        return
    fields = _success_fields(payment, report, keep_receipt=True)
    if problem == "amount" and payment.status == Status.COMPLETED:
        # Completed by a query (which carries no amount); the callback now
        # says a different amount moved.
        apply_transition(
            payment, to=Status.NEEDS_REVIEW, reason=_PROBLEMS["amount"], **fields
        )
        return
    for name, value in fields.items():
        setattr(payment, name, value)
    payment.save(update_fields=[*fields, "updated_at"])
    event_record(
        kind=PaymentEvent.Kind.NOTE,
        payment_id=payment.pk,
        reason=f"receipt {receipt} recorded ({report.source})",
        checkout_request_id=payment.checkout_request_id or "",
    )


def settle_failure(
    payment: Payment, *, result_code: str, result_desc: str, source: str
) -> None:
    """Record a final failure for a locked payment.

    A failure never overrides money that moved: for a completed or
    needs-review payment it is only noted in the log.
    """
    if payment.status in (Status.COMPLETED, Status.NEEDS_REVIEW, Status.FAILED):
        event_record(
            kind=PaymentEvent.Kind.NOTE,
            payment_id=payment.pk,
            reason=f"ignored failure {result_code} from {source}: payment is "
            f"already {payment.status}",
            checkout_request_id=payment.checkout_request_id or "",
        )
        return
    apply_transition(
        payment,
        to=Status.FAILED,
        reason=f"result {result_code} ({source})",
        result_code=result_code[:32],
        result_desc=result_desc[:255],
        failure_reason=failure_reason(result_code, result_desc)[:255],
    )


def settle_expiry(payment: Payment, *, reason: str) -> None:
    """Expire an open payment nobody could resolve within the STK lifetime."""
    if payment.status not in Payment.OPEN_STATUSES:
        return
    apply_transition(
        payment,
        to=Status.EXPIRED,
        reason=reason,
        failure_reason="No answer came from M-Pesa in time.",
    )
