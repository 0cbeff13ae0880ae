"""The payment's transition owners, and the one move they all make.

Every status change is one owner function here or in
``payments.services.settlement`` (what Daraja reports). Each opens
``transaction.atomic()``, locks the row with ``select_for_update()``,
checks ``Payment.ALLOWED_TRANSITIONS`` (``move``), applies every side
effect that belongs to the change (booking hold, booking confirmation,
follow-up query, the status event) and is idempotent when repeated.
Callers never lock a payment or assign its status.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import router, transaction

from bookings.services import (
    BookingPaymentOutcome,
    booking_extend_hold,
    booking_mark_paid,
)
from core.compiled_sql import IntSlot, save_fields, select_compiled
from payments.exceptions import InvalidPaymentTransition, PaymentNotFound
from payments.models import MpesaReceipt, MpesaReceiptSighting, Payment, PaymentEvent
from payments.services.events import event_record
from payments.services.ledger import (
    ReceiptFacts,
    receipt_record,
    receipt_take_for_payment,
)
from payments.services.metrics import count_status_after_commit
from payments.services.paybill_copy import PAID_BY_PAYBILL, paybill_copy_receipt_id
from payments.services.scheduling import (
    schedule_payment_failed_notice,
    schedule_payment_query,
)
from payments.services.status_wait import status_wakeup_after_commit

logger = logging.getLogger(__name__)
Status = Payment.Status
ReviewCode = Payment.ReviewCode


@dataclass(frozen=True, slots=True)
class PaymentChange:
    """What an owner did: the payment as it is now, and its status before."""

    payment: Payment
    before: str

    @property
    def changed(self) -> bool:
        return self.payment.status != self.before


def lock_payment(*, payment_id: int) -> Payment:
    """Lock and return the payment (owners only, inside ``atomic()``)."""
    alias = router.db_for_write(Payment)
    found = select_compiled(
        Payment, "lock_payment", _lock_query, {_ID: payment_id}, using=alias
    )
    if not found:
        raise PaymentNotFound()
    return found[0]


_ID = IntSlot("payment_id")


def _lock_query():
    return Payment.objects.select_for_update().filter(pk=_ID)


def _log_extra(payment: Payment) -> dict:
    return {
        "payment_id": payment.pk,
        "checkout_request_id": payment.checkout_request_id,
        "booking_id": payment.booking_id,
    }


def move(
    payment: Payment,
    *,
    to: str,
    reason: str,
    actor: AbstractBaseUser | None = None,
    **fields: object,
) -> bool:
    """Move a locked ``payment`` to ``to``, saving ``fields`` with it
    (owners only).

    Returns False (and changes nothing) when it is already at ``to``;
    raises ``InvalidPaymentTransition`` when the table forbids the move.
    Side effects: UPDATE of the payment, one status-change event; to a
    final status, a wake-up of its ``?wait=`` requests after commit.
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
    save_fields(payment, ("status", *fields, "updated_at"))
    event_record(
        kind=PaymentEvent.Kind.STATUS_CHANGE,
        payment_id=payment.pk,
        from_status=from_status,
        to_status=to,
        reason=reason,
        actor=actor,
        checkout_request_id=payment.checkout_request_id or "",
    )
    count_status_after_commit(payment, from_status=from_status)
    logger.info(
        "payment %s: %s -> %s (%s)",
        payment.pk,
        from_status,
        to,
        reason,
        extra=_log_extra(payment),
    )
    if to == Status.FAILED:
        schedule_payment_failed_notice(payment_id=payment.pk)
    if to not in Payment.OPEN_STATUSES:
        status_wakeup_after_commit(payment)
    return True


def payment_accept_push(
    *,
    payment_id: int,
    merchant_request_id: str,
    checkout_request_id: str,
    accepted_at: datetime,
) -> PaymentChange:
    """Daraja accepted the STK push: ``pending``, with its ids; the
    booking's hold extended over the prompt's lifetime; a follow-up query
    queued after commit in case no callback comes.

    A payment that left ``initiated`` while its push was in flight (its
    booking paid by Paybill, or a callback matched to it first) keeps its
    status; it still learns its ids, so the prompt's callback finds it.
    """
    with transaction.atomic():
        payment = lock_payment(payment_id=payment_id)
        before = payment.status
        if before != Status.INITIATED:
            _learn_push_ids_late(payment, merchant_request_id, checkout_request_id)
            return PaymentChange(payment, before)
        move(
            payment,
            to=Status.PENDING,
            reason="Daraja accepted the STK push",
            merchant_request_id=merchant_request_id[:64],
            checkout_request_id=checkout_request_id[:64],
            accepted_at=accepted_at,
        )
        lifetime = timedelta(seconds=settings.MPESA_STK_LIFETIME_SECONDS)
        booking_extend_hold(booking_id=payment.booking_id, until=accepted_at + lifetime)
        schedule_payment_query(payment_id=payment.pk)
    return PaymentChange(payment, before)


def _learn_push_ids_late(
    payment: Payment, merchant_request_id: str, checkout_request_id: str
) -> None:
    if payment.checkout_request_id:
        return  # learned already (a matched callback): nothing to add
    payment.merchant_request_id = merchant_request_id[:64]
    payment.checkout_request_id = checkout_request_id[:64]
    payment.save(
        update_fields=["merchant_request_id", "checkout_request_id", "updated_at"]
    )
    event_record(
        kind=PaymentEvent.Kind.NOTE,
        payment_id=payment.pk,
        reason=(
            f"Daraja accepted the STK push after the payment became "
            f"{payment.status}; its ids are kept so its callback finds it"
        ),
        checkout_request_id=payment.checkout_request_id,
    )


def payment_adopt_checkout_id(
    *, payment_id: int, checkout_request_id: str, merchant_request_id: str, note: str
) -> Payment:
    """A payment whose push's outcome was unknown learns its
    CheckoutRequestID (and MerchantRequestID) from a callback matched to it;
    ``note`` says how. An ``initiated`` one becomes ``pending`` (as if its
    push's answer had come), one in review keeps its status with a note; a
    payment that has a CheckoutRequestID already keeps it. The caller then
    settles it, in the same transaction."""
    with transaction.atomic():
        payment = lock_payment(payment_id=payment_id)
        if payment.checkout_request_id:
            return payment
        ids = {
            "checkout_request_id": checkout_request_id[:64],
            "merchant_request_id": (
                payment.merchant_request_id or merchant_request_id[:64]
            ),
        }
        if payment.status == Status.INITIATED:
            move(payment, to=Status.PENDING, reason=note, **ids)
            return payment
        for name, value in ids.items():
            setattr(payment, name, value)
        payment.save(update_fields=[*ids, "updated_at"])
        event_record(
            kind=PaymentEvent.Kind.NOTE,
            payment_id=payment.pk,
            reason=note,
            checkout_request_id=payment.checkout_request_id,
        )
    return payment


def payment_fail_push(
    *,
    payment_id: int,
    reason: str,
    result_code: str,
    failure_reason: str,
    result_desc: str = "",
) -> PaymentChange:
    """The push was refused by Daraja or never sent: ``failed``; nothing
    reached the phone, so nothing was charged."""
    with transaction.atomic():
        payment = lock_payment(payment_id=payment_id)
        before = payment.status
        move(
            payment,
            to=Status.FAILED,
            reason=reason,
            result_code=result_code[:32],
            result_desc=result_desc[:255],
            failure_reason=failure_reason[:255],
        )
    return PaymentChange(payment, before)


def payment_expire(*, payment_id: int, reason: str) -> PaymentChange:
    """Expire a payment still open past the STK lifetime with no result
    from Daraja; a payment settled meanwhile is left as it is."""
    with transaction.atomic():
        payment = lock_payment(payment_id=payment_id)
        before = payment.status
        if payment.status in Payment.OPEN_STATUSES:
            move(
                payment,
                to=Status.EXPIRED,
                reason=reason,
                failure_reason="No answer came from M-Pesa in time.",
            )
    return PaymentChange(payment, before)


def payment_close_paid_elsewhere(*, payment_id: int, receipt: str) -> PaymentChange:
    """The booking was paid another way (a Paybill confirmation, receipt
    ``receipt``) while this STK payment was still open: ``failed``, with
    that as the reason, so no second prompt is sent for the booking. A
    payment settled meanwhile is left as it is. Call inside the
    transaction that paid the booking."""
    with transaction.atomic():
        payment = lock_payment(payment_id=payment_id)
        before = payment.status
        if payment.status in Payment.OPEN_STATUSES:
            reason = f"{PAID_BY_PAYBILL}{receipt}"
            move(payment, to=Status.FAILED, reason=reason, failure_reason=reason)
    return PaymentChange(payment, before)


def payment_send_to_review(
    *, payment_id: int, code: str, reason: str, only_if_open: bool = True
) -> PaymentChange:
    """``needs_review`` with a ``review_code``: money may have moved and
    nothing can tell us. With ``only_if_open``, a payment settled
    meanwhile is left as it is."""
    with transaction.atomic():
        payment = lock_payment(payment_id=payment_id)
        before = payment.status
        if payment.status in Payment.OPEN_STATUSES or not only_if_open:
            move(payment, to=Status.NEEDS_REVIEW, reason=reason, review_code=code)
    return PaymentChange(payment, before)


def payment_review_paid_after_failure(
    *, payment_id: int, receipt: str, reason: str
) -> PaymentChange:
    """M-Pesa's own record (statement, Pull) shows ``receipt`` paid for a
    payment that failed for certain (cancelled, insufficient funds, wrong
    PIN): ``needs_review`` (``contradicted``), carrying the receipt for
    staff to complete or refund; its booking is not paid here. Only from
    ``failed`` without a receipt: a payment settled meanwhile is left as
    it is (``changed`` is False)."""
    with transaction.atomic():
        payment = lock_payment(payment_id=payment_id)
        before = payment.status
        if payment.status == Status.FAILED and not payment.mpesa_receipt_number:
            held = Payment.objects.filter(mpesa_receipt_number=receipt).exists()
            fields = {} if held else {"mpesa_receipt_number": receipt}
            move(
                payment,
                to=Status.NEEDS_REVIEW,
                reason=reason,
                review_code=ReviewCode.CONTRADICTED,
                **fields,
            )
    return PaymentChange(payment, before)


def payment_resolve(
    *,
    payment_id: int,
    to: str,
    note: str,
    actor: AbstractBaseUser,
    receipt: str | None = None,
    check_receipt=None,
) -> PaymentChange:
    """A staff member's resolution: ``to`` (allowed from the current
    status), with a staff-action event. To ``completed`` it confirms the
    booking or refuses (``InvalidPaymentTransition``) when the booking
    cannot be confirmed; ``check_receipt(payment, receipt)`` vets the
    receipt under the lock."""
    with transaction.atomic():
        payment = lock_payment(payment_id=payment_id)
        before = payment.status
        if not Payment.can_transition(payment.status, to):
            raise InvalidPaymentTransition(
                f"A payment cannot go from {payment.status} to {to}."
            )
        fields = {}
        copy_id = None
        if receipt:
            if check_receipt is not None:
                check_receipt(payment, receipt)
            fields["mpesa_receipt_number"] = receipt
            copy_id = _paybill_copy_id(payment, receipt, to)
        staff_event = event_record(
            kind=PaymentEvent.Kind.STAFF_ACTION,
            payment_id=payment.pk,
            actor=actor,
            from_status=payment.status,
            to_status=to,
            reason=f"resolved manually: {note}",
            checkout_request_id=payment.checkout_request_id or "",
        )
        if to == Status.COMPLETED:
            _confirm_booking_or_refuse(payment, own=receipt if copy_id else None)
        move(payment, to=to, reason=f"staff: {note}", actor=actor, **fields)
        if copy_id is not None:
            receipt_take_for_payment(
                receipt_id=copy_id,
                payment=payment,
                source=MpesaReceiptSighting.Source.STAFF,
                event_id=staff_event.pk,
            )
        elif to == Status.COMPLETED and payment.mpesa_receipt_number:
            _ledger_staff_receipt(payment)
    return PaymentChange(payment, before)


def _paybill_copy_id(payment: Payment, receipt: str, to: str) -> int | None:
    """Completing a ``paid_by_paybill_copy`` review with the Paybill receipt
    that paid its booking: the ledger row the payment takes (that money is
    this payment's, not another's); None for anything else."""
    if to != Status.COMPLETED or payment.review_code != ReviewCode.PAID_BY_PAYBILL_COPY:
        return None
    return paybill_copy_receipt_id(payment=payment, receipt=receipt)


def _ledger_staff_receipt(payment: Payment) -> None:
    """Staff completed the payment on a receipt: it is in the ledger,
    allocated to the payment (a known receipt gets a staff sighting)."""
    receipt_record(
        facts=ReceiptFacts(
            receipt_number=payment.mpesa_receipt_number,
            channel=MpesaReceipt.Channel.STK,
            amount=payment.amount,
            source=MpesaReceiptSighting.Source.STAFF,
            payer_phone=payment.paid_phone_number or payment.phone_number,
            transacted_at=payment.transaction_date,
        ),
        allocation=MpesaReceipt.Allocation.ALLOCATED,
        payment_id=payment.pk,
        booking_id=payment.booking_id,
    )


def _confirm_booking_or_refuse(payment: Payment, *, own: str | None = None) -> None:
    """``own``: a ledger receipt that paid the booking and is this
    payment's money (its Paybill copy), not another payment's."""
    outcome = booking_mark_paid(booking_id=payment.booking_id)
    already = outcome == BookingPaymentOutcome.ALREADY_PAID
    if already and not _paid_by_another(payment, own=own):
        # This payment paid the booking before a later report sent it to
        # review (e.g. failure_after_completion): completing it restores it.
        return
    if outcome != BookingPaymentOutcome.CONFIRMED:
        raise InvalidPaymentTransition(
            f"The booking cannot be confirmed ({outcome.value}); resolve the "
            "booking (refund) instead of completing this payment."
        )


def _paid_by_another(payment: Payment, *, own: str | None = None) -> bool:
    """Whether another payment, or Paybill money in the ledger (a receipt
    allocated to the booking that is not this payment's), paid the booking."""
    others = Payment.objects.filter(
        booking_id=payment.booking_id, status=Status.COMPLETED
    )
    if others.exclude(pk=payment.pk).exists():
        return True
    ledger_money = MpesaReceipt.objects.filter(
        booking_id=payment.booking_id,
        allocation=MpesaReceipt.Allocation.ALLOCATED,
    ).exclude(payment_id=payment.pk)
    for receipt in (payment.mpesa_receipt_number, own):
        if receipt:
            ledger_money = ledger_money.exclude(receipt_number=receipt)
    return ledger_money.exists()
