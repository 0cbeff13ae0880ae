"""What each notice says: the facts of an event, read from the database.

Reads only; ``services`` renders them into ``templates/notices/``.
"""

from dataclasses import dataclass

from django.conf import settings

from accounts.models import ClientProfile
from bookings.models import Booking
from core.money import format_kes
from core.time import NAIROBI
from payments.models import MpesaReceipt, Payment, Refund

# M-Pesa's STK result codes in words a client understands.
_FAILURE_WORDS = {
    "1": "your M-Pesa balance was not enough for this payment",
    "1032": "the payment was cancelled on your phone",
    "1037": "your phone could not be reached before the request timed out",
    "1019": "the payment request expired before it was completed",
    "2001": "the M-Pesa PIN entered was wrong",
    "1025": "M-Pesa could not send the request to your phone",
    "9999": "M-Pesa could not send the request to your phone",
}
_FAILURE_DEFAULT = "M-Pesa could not complete the payment"


@dataclass(frozen=True)
class Recipients:
    """Where a client's notices go: e-mail and phone, each may be empty."""

    email: str
    phone: str


def when_text(booking: Booking) -> str:
    """``Wed 3 Dec 2026, 10:00 (Nairobi time)``."""
    start = booking.start.astimezone(NAIROBI)
    return start.strftime("%a %-d %b %Y, %H:%M") + " (Nairobi time)"


def client_recipients(
    booking: Booking, *, payment: Payment | None = None
) -> Recipients:
    """The client's e-mail, and the profile's phone else the payment's."""
    profile = ClientProfile.objects.filter(user_id=booking.client_id).first()
    phone = profile.phone_number if profile else ""
    if not phone:
        payment = payment or booking.payments.order_by("-created_at").first()
        phone = payment.phone_number if payment else ""
    return Recipients(email=booking.client.email or "", phone=phone or "")


def booking_context(booking: Booking) -> dict:
    """Facts of a confirmed and paid booking (the receipt that paid it)."""
    receipt = (
        MpesaReceipt.objects.filter(
            booking_id=booking.pk, direction=MpesaReceipt.Direction.IN
        )
        .order_by("-created_at")
        .first()
    )
    return {
        "reference": booking.reference,
        "advocate": booking.advocate.name,
        "consultation": booking.get_consultation_type_display(),
        "when": when_text(booking),
        "duration": booking.duration,
        "amount": format_kes(receipt.amount if receipt else booking.amount),
        "receipt": receipt.receipt_number if receipt else "",
        "client_name": _client_name(booking),
    }


def failure_context(payment: Payment) -> dict:
    """Facts of a failed payment, with how to try again or pay by Paybill."""
    booking = payment.booking
    code = (payment.result_code or "").strip()
    return {
        "reference": booking.reference,
        "advocate": booking.advocate.name,
        "when": when_text(booking),
        "amount": format_kes(booking.amount),
        "reason": _FAILURE_WORDS.get(code, _FAILURE_DEFAULT),
        "paybill": settings.MPESA_C2B_SHORT_CODE,
        "hold_until": booking.expires_at.astimezone(NAIROBI).strftime("%H:%M"),
    }


def refund_context(refund: Refund) -> dict:
    """Facts of money returned to the client."""
    booking = refund.booking
    return {
        "reference": booking.reference,
        "amount": format_kes(refund.amount),
        "refund_receipt": refund.refund_receipt_number,
        "original_receipt": refund.receipt.receipt_number,
    }


def _client_name(booking: Booking) -> str:
    profile = ClientProfile.objects.filter(user_id=booking.client_id).first()
    if profile and profile.full_name:
        return profile.full_name
    return booking.client.get_full_name() or booking.client.get_username()
