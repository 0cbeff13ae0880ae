"""Idempotency-Key for STK pushes: the stored answer and its replay.

A push with a key stores the API's answer on the payment; the same key
from the same user replays it (for the same booking only) instead of
prompting the phone twice.
"""

from dataclasses import dataclass

from payments.exceptions import IdempotencyKeyReused, PaymentAlreadyInProgress
from payments.models import Payment


@dataclass(frozen=True, slots=True)
class InitiationAnswer:
    """The API's answer to a push; stored for Idempotency-Key replays."""

    payment_id: int
    http_status: int
    body: dict
    replayed: bool = False


def payment_replay_answer(
    *, user, key: str, booking_id: int
) -> InitiationAnswer | None:
    """The stored answer for this user's key, or None for a new key.

    Raises ``IdempotencyKeyReused`` for another booking and
    ``PaymentAlreadyInProgress`` while the first request is unanswered.
    """
    payment = Payment.objects.filter(initiated_by=user, idempotency_key=key).first()
    if payment is None:
        return None
    if payment.booking_id != booking_id:
        raise IdempotencyKeyReused()
    if payment.idempotent_response is None:
        # The first request with this key is still being processed.
        raise PaymentAlreadyInProgress(
            payment_id=payment.pk, checkout_request_id=payment.checkout_request_id
        )
    return InitiationAnswer(
        payment_id=payment.pk,
        http_status=payment.idempotent_status_code,
        body=payment.idempotent_response,
        replayed=True,
    )


def payment_store_answer(payment: Payment, http_status: int, body: dict) -> None:
    """Keep the answer on a locked payment pushed with an Idempotency-Key."""
    if not payment.idempotency_key:
        return
    payment.idempotent_status_code = http_status
    payment.idempotent_response = body
    payment.save(update_fields=["idempotent_status_code", "idempotent_response"])
