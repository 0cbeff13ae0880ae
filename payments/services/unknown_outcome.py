"""A push of unknown outcome whose money paid its booking another way.

Its own STK callback came with a CheckoutRequestID we never learned and was
recorded ``unknown_payment`` (``payments.services.unmatched``); then that
same receipt paid the booking: a C2B copy of the transaction claimed it
(``ledger._claim_unknown``), or staff allocated it. The payment would stay
in review (or ``failed``, "paid by Paybill", when it was still open) though
its money arrived. After such an allocation commits,
``payment_settle_from_booking_receipt`` completes the one payment that owns
the receipt by unmatched.py's rules (same booking and amount, the payer's
phone where the receipt shows it, created in the prompt's window) through
``settlement.payment_record_success``; when more than one could, each gets
a note naming the receipt, for staff.
"""

import logging
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from payments.models import MpesaReceipt, MpesaReceiptSighting, Payment, PaymentEvent
from payments.phone import InvalidPhoneNumber, normalise_phone
from payments.services.events import event_record_note
from payments.services.payer_phone import payer_phone_agrees, payer_phone_filter
from payments.services.reports import SuccessReport
from payments.services.settlement import payment_record_success
from payments.services.transitions import payment_adopt_checkout_id
from payments.services.unmatched_candidates import OUTCOME_UNKNOWN_NOTE, prompt_window

logger = logging.getLogger(__name__)
Status = Payment.Status
SOURCE = "ledger receipt"


def payment_settle_from_booking_receipt(*, receipt_number: str) -> int | None:
    """Complete the payment of unknown outcome whose own STK money is the
    receipt ``receipt_number``, now allocated to its booking by another
    route; returns its id (None when no payment was completed).

    Side effects: that payment completed and the receipt allocated to it
    (``payment_record_success``), or, when more than one payment could own
    the receipt or the one cannot complete yet, a note on each naming it.
    Call after the allocation committed: the payments are locked first,
    then (in the settlement) the booking and the receipt.
    """
    receipt = _booking_money_of_a_push(receipt_number)
    if receipt is None:
        return None
    with transaction.atomic():
        owners = _lock_possible_owners(receipt)
        if len(owners) == 1 and owners[0].status != Status.INITIATED:
            owner = owners[0]
            _learn_checkout_id(owner, receipt)
            payment_record_success(payment_id=owner.pk, report=_report(receipt))
            logger.info(
                "payment %s completed with receipt %s, which paid its booking",
                owner.pk,
                receipt.receipt_number,
                extra={"payment_id": owner.pk, "booking_id": owner.booking_id},
            )
            return owner.pk
        for payment in owners:
            event_record_note(payment, _undecided_note(receipt, len(owners)))
    return None


def _booking_money_of_a_push(receipt_number: str) -> MpesaReceipt | None:
    """The receipt, if it paid a booking without a payment and an STK
    callback reported it (a push's money, not a hand-typed Paybill one)."""
    reported_by_stk = MpesaReceiptSighting.objects.filter(
        receipt=OuterRef("pk"), source=MpesaReceiptSighting.Source.STK_CALLBACK
    )
    return (
        MpesaReceipt.objects.filter(
            receipt_number=receipt_number,
            allocation=MpesaReceipt.Allocation.ALLOCATED,
            booking__isnull=False,
            payment__isnull=True,
            transacted_at__isnull=False,
            refund_marked_at__isnull=True,
        )
        .filter(Exists(reported_by_stk))
        .first()
    )


def _lock_possible_owners(receipt: MpesaReceipt) -> list[Payment]:
    """The booking's payments of unknown outcome that may own the receipt,
    locked in id order: no CheckoutRequestID and no receipt, the same
    amount, the payer's phone (when the receipt shows one), created in the
    prompt's window; in review for that, or with the push's note (still
    ``initiated``, or ``failed`` when this receipt paid the booking)."""
    start, end = prompt_window(receipt.transacted_at)
    noted = PaymentEvent.objects.filter(
        payment=OuterRef("pk"), kind=PaymentEvent.Kind.NOTE, reason=OUTCOME_UNKNOWN_NOTE
    )
    closed_by_it = f"paid by Paybill, receipt {receipt.receipt_number}"
    unknown = Q(
        status=Status.NEEDS_REVIEW, review_code=Payment.ReviewCode.OUTCOME_UNKNOWN
    ) | (
        Exists(noted)
        & (
            Q(status=Status.INITIATED)
            | Q(status=Status.FAILED, failure_reason=closed_by_it)
        )
    )
    payments = Payment.objects.select_for_update(of=("self",)).filter(
        unknown,
        booking_id=receipt.booking_id,
        amount=receipt.amount,
        checkout_request_id__isnull=True,
        mpesa_receipt_number__isnull=True,
        created_at__gte=start,
        created_at__lte=end,
    )
    phone = payer_phone_filter(receipt.payer_phone)
    if phone is None:
        return list(payments.order_by("pk"))
    return [
        payment
        for payment in payments.filter(phone).order_by("pk")
        if payer_phone_agrees(receipt.payer_phone, payment.phone_number)
    ]


def _learn_checkout_id(payment: Payment, receipt: MpesaReceipt) -> None:
    """The payment learns the CheckoutRequestID of the callback that
    reported its receipt, so its history (and any late answer) finds it."""
    sighting = (
        receipt.sightings.filter(
            source=MpesaReceiptSighting.Source.STK_CALLBACK, event__isnull=False
        )
        .select_related("event")
        .first()
    )
    checkout_id = sighting.event.checkout_request_id if sighting else ""
    if (
        not checkout_id
        or Payment.objects.filter(checkout_request_id=checkout_id).exists()
    ):
        return
    body = sighting.event.request_body
    callback = (
        body.get("Body", {}).get("stkCallback", {}) if isinstance(body, dict) else {}
    )
    merchant_id = (
        callback.get("MerchantRequestID") if isinstance(callback, dict) else ""
    )
    payment_adopt_checkout_id(
        payment_id=payment.pk,
        checkout_request_id=checkout_id,
        merchant_request_id=merchant_id if isinstance(merchant_id, str) else "",
        note=(
            f"CheckoutRequestID {checkout_id} learned from the callback of receipt "
            f"{receipt.receipt_number}, which paid this payment's booking"
        ),
    )


def _report(receipt: MpesaReceipt) -> SuccessReport:
    """The receipt's facts as a success report for its payment (its first
    STK sighting is the report's event: no second sighting)."""
    sighting = receipt.sightings.filter(
        source=MpesaReceiptSighting.Source.STK_CALLBACK
    ).first()
    return SuccessReport(
        source=SOURCE,
        requires_receipt=True,
        reports_amount=True,
        result_desc=f"receipt {receipt.receipt_number} paid the booking",
        mpesa_receipt_number=receipt.receipt_number,
        paid_amount=Decimal(receipt.amount),
        transaction_date=receipt.transacted_at,
        paid_phone_number=_full_phone(receipt.payer_phone),
        event_id=sighting.event_id if sighting else None,
    )


def _full_phone(phone: str) -> str:
    try:
        return normalise_phone(phone)
    except InvalidPhoneNumber:
        return ""  # masked or hashed: the payment keeps its own number


def _undecided_note(receipt: MpesaReceipt, owners: int) -> str:
    why = (
        f"{owners} payments of unknown outcome could own it"
        if owners > 1
        else "this payment's push may still be answered"
    )
    return (
        f"receipt {receipt.receipt_number} (KES {receipt.amount}), reported by an "
        f"STK callback, paid this payment's booking; not completed with it: "
        f"{why}. Check which payment it is"
    )
