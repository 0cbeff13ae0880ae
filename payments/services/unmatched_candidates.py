"""Which payments may own a success callback no payment has.

The candidates of ``payments.services.unmatched``: payments with no
CheckoutRequestID whose push is unanswered or of unknown outcome, of the
callback's amount and payer phone, opened while its prompt could be open;
and, the other way round, the stored callbacks of unallocated
``unknown_payment`` receipts a payment of unknown outcome may adopt.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q

from payments.daraja.callbacks import StkCallback
from payments.models import MpesaReceipt, MpesaReceiptSighting, Payment, PaymentEvent
from payments.services.payer_phone import payer_phone_agrees, payer_phone_filter

Status = Payment.Status
Reason = MpesaReceipt.UnallocatedReason
# Daraja's TransactionDate may come a little before our row's created_at
# (clocks, the time to commit the initiated payment).
EARLY_TOLERANCE = timedelta(minutes=1)
# The note that marks a push whose outcome is unknown (written by
# ``push_failure``; its payment stays ``initiated`` with no
# CheckoutRequestID); candidates are found by it, the soak by its words.
OUTCOME_UNKNOWN_NOTE = (
    "push outcome unknown (no answer from Daraja); the reconciliation will settle it"
)


def prompt_window(paid_at: datetime) -> tuple[datetime, datetime]:
    """The created_at range of a payment whose prompt was paid at
    ``paid_at``: it opened at most the prompt's lifetime plus the grace
    before, and not more than ``EARLY_TOLERANCE`` after."""
    before = timedelta(
        seconds=settings.MPESA_STK_LIFETIME_SECONDS
        + settings.MPESA_UNMATCHED_CALLBACK_WINDOW_SECONDS
    )
    return paid_at - before, paid_at + EARLY_TOLERANCE


def lock_candidates(callback: StkCallback) -> list[Payment]:
    """Every payment that may own the callback, locked in id order: no
    CheckoutRequestID, same amount and phone, opened in the time window,
    its push unanswered (``initiated``) or of unknown outcome (review).
    ``push_unknown``: its push's outcome is known to be unknown."""
    phone = payer_phone_filter(callback.phone_number)
    if phone is None or callback.transaction_date is None:
        return []
    start, end = prompt_window(callback.transaction_date)
    notes = PaymentEvent.objects.filter(
        payment=OuterRef("pk"),
        kind=PaymentEvent.Kind.NOTE,
        reason=OUTCOME_UNKNOWN_NOTE,
    )
    unknown = Q(
        status=Status.NEEDS_REVIEW,
        review_code=Payment.ReviewCode.OUTCOME_UNKNOWN,
        mpesa_receipt_number__isnull=True,
    )
    candidates = (
        Payment.objects.select_for_update(of=("self",))
        .filter(phone, Q(status=Status.INITIATED) | unknown)
        .filter(
            checkout_request_id__isnull=True,
            amount=int(callback.amount),
            created_at__gte=start,
            created_at__lte=end,
        )
        .annotate(push_unknown=Exists(notes))
        .order_by("pk")
    )
    return [
        payment
        for payment in candidates
        if payer_phone_agrees(callback.phone_number, payment.phone_number)
    ]


def single_owner(candidates: list[Payment]) -> Payment | None:
    """The one candidate, if it is one whose push's outcome is unknown (a
    push still waiting for its answer keeps the money for its own)."""
    if len(candidates) != 1:
        return None
    payment = candidates[0]
    if payment.status == Status.NEEDS_REVIEW or payment.push_unknown:
        return payment
    return None


def unmatched_events_for(payment: Payment) -> list[PaymentEvent]:
    """The stored callbacks of unallocated ``unknown_payment`` receipts of
    the payment's amount, paid while its prompt could be open."""
    lifetime = timedelta(
        seconds=settings.MPESA_STK_LIFETIME_SECONDS
        + settings.MPESA_UNMATCHED_CALLBACK_WINDOW_SECONDS
    )
    receipts = MpesaReceipt.objects.filter(
        allocation=MpesaReceipt.Allocation.UNALLOCATED,
        unallocated_reason=Reason.UNKNOWN_PAYMENT,
        amount=payment.amount,
        transacted_at__gte=payment.created_at - EARLY_TOLERANCE,
        transacted_at__lte=payment.created_at + lifetime,
    )
    sightings = MpesaReceiptSighting.objects.filter(
        receipt__in=receipts,
        source=MpesaReceiptSighting.Source.STK_CALLBACK,
        event__isnull=False,
    ).order_by("id")
    seen: set[int] = set()
    events = []
    for sighting in sightings.select_related("event")[:50]:
        if sighting.receipt_id not in seen:
            seen.add(sighting.receipt_id)
            events.append(sighting.event)
    return events


def callback_may_be_of(callback: StkCallback, payment: Payment) -> bool:
    """A quick check before locking: the callback's phone may be the
    payment's (``lock_candidates`` decides under the lock)."""
    return payer_phone_agrees(callback.phone_number, payment.phone_number)
