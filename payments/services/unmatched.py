"""An STK success callback whose CheckoutRequestID no payment has.

It happens when our push's answer was lost (a read time-out, a dropped
connection) after Daraja accepted it: the payment stays ``initiated`` with
the note ``OUTCOME_UNKNOWN_NOTE`` (later ``needs_review`` with
``outcome_unknown``), and we never learn its CheckoutRequestID. The money
of such a callback goes into the ledger either way:

- allocated to THE payment whose outcome is unknown when payer phone,
  amount and time agree and exactly one payment could be its owner; that
  payment adopts the callback's CheckoutRequestID and settles through
  ``settlement.payment_record_success`` (completed, or review as usual);
- otherwise ``unallocated`` with ``unknown_payment``, for staff.

A push still waiting for Daraja's answer (``initiated``, no note yet) may
own the callback too: it counts as a candidate but never takes the money
here. If its answer comes, the early-callback path applies the callback by
its CheckoutRequestID and the ledger allocates the receipt to it; if it
times out, ``payment_adopt_unmatched_receipt`` (called then, and by the
sweep for a push of unknown outcome) matches again.

Masked phone numbers (the 2026 masking, e.g. ``2547****149``) match when
their visible digits agree with the payment's number and everything else
agrees: the candidates are only our own pushes whose outcome is unknown,
and two of them sharing those digits, amount and time make it ambiguous
(unallocated). A hashed number never matches.
"""

import enum
import logging
from dataclasses import dataclass

from django.db import transaction

from payments.daraja.callbacks import StkCallback, parse_stk_callback
from payments.daraja.exceptions import CallbackParseError
from payments.models import MpesaReceipt, MpesaReceiptSighting, Payment
from payments.phone import (
    mask_phone,
)
from payments.selectors import payment_receipt_held_elsewhere
from payments.services.ledger import (
    ReceiptFacts,
    receipt_peek,
    receipt_record,
    receipt_sighting,
)
from payments.services.reports import receipt_is_valid, success_report_from_callback
from payments.services.scheduling import schedule_settlement_from_booking_receipt
from payments.services.settlement import payment_record_success
from payments.services.transitions import payment_adopt_checkout_id
from payments.services.unmatched_candidates import (
    callback_may_be_of,
    lock_candidates,
    single_owner,
    unmatched_events_for,
)

logger = logging.getLogger(__name__)
Status = Payment.Status
Reason = MpesaReceipt.UnallocatedReason
MATCHED_NOTE = "matched by phone, amount and time"


class UnknownCallbackOutcome(enum.StrEnum):
    """What became of a success callback no payment had."""

    MATCHED = "matched"  # allocated to the one payment of unknown outcome
    APPLIED = "applied"  # a payment learned its CheckoutRequestID meanwhile
    UNALLOCATED = "unallocated"  # in the ledger, unknown_payment, for staff
    KEPT = "kept"  # no usable receipt or amount: the raw event only


@dataclass(frozen=True, slots=True)
class UnknownCallbackResult:
    outcome: UnknownCallbackOutcome
    payment_id: int | None = None


def payment_match_unknown_callback(
    *, callback: StkCallback, event_id: int | None, source: str = "callback"
) -> UnknownCallbackResult:
    """Record the money of a success callback no payment has, allocated to
    the one payment of unknown outcome it matches, else unallocated
    (``unknown_payment``).

    Side effects: the ledger's receipt and sighting; for a match, the
    payment's CheckoutRequestID (with a note) and its settlement. The
    candidates are locked in id order, so two callbacks at once never both
    take one payment. A receipt already in the ledger gets one more
    sighting and is never allocated a second time.
    """
    if not _usable(callback):
        return UnknownCallbackResult(UnknownCallbackOutcome.KEPT)
    report = success_report_from_callback(callback, source=source, event_id=event_id)
    checkout_id = callback.checkout_request_id
    with transaction.atomic():
        candidates = lock_candidates(callback)
        if Payment.objects.filter(checkout_request_id=checkout_id).exists():
            # Its push's answer committed while we waited for the locks.
            change = payment_record_success(
                report=report, checkout_request_id=checkout_id
            )
            return UnknownCallbackResult(
                UnknownCallbackOutcome.APPLIED, change.payment.pk
            )
        owner = single_owner(candidates)
        if owner is not None and _claimable(callback.mpesa_receipt_number):
            payment_adopt_checkout_id(
                payment_id=owner.pk,
                checkout_request_id=checkout_id,
                merchant_request_id=callback.merchant_request_id or "",
                note=f"{MATCHED_NOTE}: callback event {event_id}",
            )
            payment_record_success(payment_id=owner.pk, report=report)
            _log_match(callback, owner.pk, event_id)
            return UnknownCallbackResult(UnknownCallbackOutcome.MATCHED, owner.pk)
        _record_unallocated(callback, event_id, candidates=len(candidates))
        # If a C2B copy of this money paid its booking first, the push's
        # payment of unknown outcome settles on it once this commits.
        schedule_settlement_from_booking_receipt(
            receipt_number=callback.mpesa_receipt_number
        )
    return UnknownCallbackResult(UnknownCallbackOutcome.UNALLOCATED)


def payment_adopt_unmatched_receipt(*, payment_id: int) -> bool:
    """For a payment whose push's outcome is unknown: take the unallocated
    ``unknown_payment`` receipt whose callback matches it (one that came
    while its push still waited for Daraja's answer). True if it did.

    Side effects: as ``payment_match_unknown_callback``.
    """
    payment = Payment.objects.get(pk=payment_id)
    unknown = payment.status == Status.INITIATED or (
        payment.status == Status.NEEDS_REVIEW
        and payment.review_code == Payment.ReviewCode.OUTCOME_UNKNOWN
    )
    if payment.checkout_request_id or not unknown:
        return False
    for event in unmatched_events_for(payment):
        try:
            callback = parse_stk_callback(event.request_body)
        except CallbackParseError:
            continue
        if not callback_may_be_of(callback, payment):
            continue
        result = payment_match_unknown_callback(
            callback=callback, event_id=event.pk, source="callback"
        )
        if result.payment_id == payment.pk:
            return True
    return False


def _usable(callback: StkCallback) -> bool:
    """A success with a receipt and a whole amount the ledger can hold."""
    amount = callback.amount
    return (
        callback.is_success
        and receipt_is_valid(callback.mpesa_receipt_number)
        and amount is not None
        and amount == amount.to_integral_value()
        and 1 <= amount < 2**31
    )


def _claimable(receipt_number: str) -> bool:
    """The receipt is new, or unallocated as ``unknown_payment``; never
    money allocated already or held by a payment. A plain read: locking the
    receipt here, before the settlement locks the booking, inverts the lock
    order (payment, booking, receipt) and deadlocks against a C2B copy or a
    staff allocation; the settlement re-checks the row under its lock."""
    if payment_receipt_held_elsewhere(receipt=receipt_number, payment_id=None):
        return False
    receipt = receipt_peek(receipt_number)
    return receipt is None or (
        receipt.allocation == MpesaReceipt.Allocation.UNALLOCATED
        and receipt.unallocated_reason == Reason.UNKNOWN_PAYMENT
    )


def _record_unallocated(
    callback: StkCallback, event_id: int | None, *, candidates: int
) -> None:
    receipt_number = callback.mpesa_receipt_number
    if payment_receipt_held_elsewhere(receipt=receipt_number, payment_id=None):
        # A payment holds this receipt: its row (if any) gets a sighting.
        receipt_sighting(
            receipt_number=receipt_number,
            source=MpesaReceiptSighting.Source.STK_CALLBACK,
            event_id=event_id,
        )
        return
    receipt_record(
        facts=ReceiptFacts(
            receipt_number=receipt_number,
            channel=MpesaReceipt.Channel.STK,
            amount=int(callback.amount),
            source=MpesaReceiptSighting.Source.STK_CALLBACK,
            event_id=event_id,
            payer_phone=callback.phone_number or "",
            transacted_at=callback.transaction_date,
        ),
        allocation=MpesaReceipt.Allocation.UNALLOCATED,
        unallocated_reason=Reason.UNKNOWN_PAYMENT,
    )
    logger.warning(
        "success callback %s (event %s, phone %s) matches no payment (%s "
        "candidates): receipt %s unallocated",
        callback.checkout_request_id,
        event_id,
        mask_phone(callback.phone_number),
        candidates,
        receipt_number,
        extra={"checkout_request_id": callback.checkout_request_id},
    )


def _log_match(callback: StkCallback, payment_id: int, event_id: int | None) -> None:
    logger.info(
        "success callback %s (event %s) %s to payment %s",
        callback.checkout_request_id,
        event_id,
        MATCHED_NOTE,
        payment_id,
        extra={
            "payment_id": payment_id,
            "checkout_request_id": callback.checkout_request_id,
        },
    )
