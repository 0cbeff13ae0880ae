"""Staff actions on payments (Django admin): manual resolution."""

import logging

from django.db import transaction

from bookings.services import BookingPaymentOutcome, booking_mark_paid
from payments.exceptions import InvalidPaymentInput, InvalidPaymentTransition
from payments.models import Payment, PaymentEvent
from payments.services.events import event_record
from payments.services.transitions import apply_transition, payment_lock

logger = logging.getLogger(__name__)
Status = Payment.Status


def payment_resolve_manually(*, payment_id: int, to: str, note: str, actor) -> Payment:
    """Move a payment to ``to`` on a staff member's word, with a note.

    ``to`` must be allowed from the current status. Resolving to
    ``completed`` confirms the booking in the same transaction; if the
    booking cannot be confirmed, nothing changes and the error says why.
    Side effects: a staff-action event and a status-change event.
    """
    note = (note or "").strip()
    if not note:
        raise InvalidPaymentInput(
            "A note explaining the resolution is required.", field="note"
        )
    with transaction.atomic():
        payment = payment_lock(payment_id=payment_id)
        if not Payment.can_transition(payment.status, to):
            raise InvalidPaymentTransition(
                f"A payment cannot go from {payment.status} to {to}."
            )
        event_record(
            kind=PaymentEvent.Kind.STAFF_ACTION,
            payment_id=payment.pk,
            actor=actor,
            from_status=payment.status,
            to_status=to,
            reason=f"resolved manually: {note}",
            checkout_request_id=payment.checkout_request_id or "",
        )
        if to == Status.COMPLETED:
            _confirm_booking_or_refuse(payment)
        apply_transition(payment, to=to, reason=f"staff: {note}", actor=actor)
    logger.info("payment %s resolved to %s by staff user %s", payment.pk, to, actor.pk)
    return payment


def payment_allowed_targets(payment: Payment) -> list[str]:
    """Statuses staff may resolve this payment to."""
    return sorted(Payment.ALLOWED_TRANSITIONS.get(payment.status, ()))


def _confirm_booking_or_refuse(payment: Payment) -> None:
    outcome = booking_mark_paid(booking_id=payment.booking_id)
    if outcome != BookingPaymentOutcome.CONFIRMED:
        raise InvalidPaymentTransition(
            f"The booking cannot be confirmed ({outcome.value}); resolve the "
            "booking (refund) instead of completing this payment."
        )
