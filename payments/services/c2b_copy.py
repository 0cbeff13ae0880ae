"""The C2B copy of money an STK Query already counted ("receipt pending").

An STK Query completes a payment without its receipt (queries never return
one). When the same money's C2B confirmation comes later, the booking is
already paid: without this it would be recorded unallocated
``duplicate_payment`` while the payment stays receipt pending, and the
money would be counted twice. ``c2b_receipt_pending_payment`` says which
payment the confirmation is the copy of, only when nothing else could be;
``c2b_copy_report`` is the confirmation as a success report for
``settlement.payment_record_success``, which gives that payment the receipt.
"""

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings

from bookings.models import Booking
from payments.daraja.c2b import C2BRequest
from payments.models import MpesaReceiptSighting, Payment
from payments.phone import InvalidPhoneNumber, masked_phone_digits, normalise_phone
from payments.selectors import payments_receipt_pending
from payments.services.reports import SuccessReport

SOURCE = MpesaReceiptSighting.Source.C2B_CONFIRMATION
# TransTime may be a little before our row's created_at (clocks, commit).
EARLY_TOLERANCE = timedelta(minutes=1)
_SHA256_HEX = 64


def c2b_receipt_pending_payment(
    *, request: C2BRequest, booking: Booking, amount: int
) -> int | None:
    """The id of the payment whose money ``request`` copies, or None.

    Only when the booking has exactly one completed payment, it has no
    receipt (receipt pending), asks ``amount``, its phone agrees with the
    MSISDN where both are known, and ``TransTime`` falls in its prompt's
    window. Anything else is ambiguous (the caller keeps the money
    unallocated for staff). A plain read: the settlement locks the payment.
    """
    completed = list(
        Payment.objects.filter(booking=booking, status=Payment.Status.COMPLETED)[:2]
    )
    if len(completed) != 1:
        return None
    payment = completed[0]
    pending = payments_receipt_pending().filter(pk=payment.pk).exists()
    if not pending or payment.amount != amount:
        return None
    if not _phone_agrees(request.msisdn, payment.phone_number):
        return None
    if not _in_prompt_window(request.trans_time, payment):
        return None
    return payment.pk


def c2b_copy_report(
    *, request: C2BRequest, amount: int, event_id: int
) -> SuccessReport:
    """The confirmation as a success report of the payment it copies."""
    masked = masked_phone_digits(request.msisdn) is not None
    return SuccessReport(
        source=SOURCE,
        requires_receipt=True,
        reports_amount=True,
        mpesa_receipt_number=request.trans_id,
        paid_amount=Decimal(amount),
        transaction_date=request.trans_time,
        # A v2 mask fits the field; a v1 hash is kept in the raw event only.
        paid_phone_number=request.msisdn if masked else "",
        event_id=event_id,
    )


def _phone_agrees(msisdn: str, phone: str) -> bool:
    """Whether the MSISDN (full, masked, or a v1 SHA-256) can be ``phone``;
    True when the MSISDN says nothing readable."""
    text = msisdn.strip()
    if not text or not phone:
        return True
    try:
        return normalise_phone(text) == phone
    except InvalidPhoneNumber:
        pass
    visible = masked_phone_digits(text)
    if visible is not None:
        head, tail = visible
        return phone.startswith(head) and phone.endswith(tail)
    if len(text) == _SHA256_HEX:
        return hashlib.sha256(phone.encode()).hexdigest() == text.lower()
    return True


def _in_prompt_window(paid_at: datetime | None, payment: Payment) -> bool:
    """Whether money paid at ``paid_at`` can be this payment's prompt's:
    from just before the payment opened to its STK lifetime plus the
    unmatched-callback grace after Daraja accepted it. Unknown: no."""
    if paid_at is None:
        return False
    accepted = payment.accepted_at or payment.created_at
    after = timedelta(
        seconds=settings.MPESA_STK_LIFETIME_SECONDS
        + settings.MPESA_UNMATCHED_CALLBACK_WINDOW_SECONDS
    )
    return payment.created_at - EARLY_TOLERANCE <= paid_at <= accepted + after
