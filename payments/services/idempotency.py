"""Idempotency-Key for STK pushes: the stored outcome and its replay.

A push with a key stores its outcome on the payment (what Daraja accepted,
or the error the push ended in); the same key from the same user replays
it, for the same booking only, instead of prompting the phone twice. The
API layer turns a replayed outcome into the same HTTP answer as the first.
"""

from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

from payments.exceptions import (
    IdempotencyKeyReused,
    PaymentAlreadyInProgress,
    PaymentError,
)
from payments.models import Payment

ACCEPTED_STATUS = 201


@dataclass(frozen=True, slots=True)
class PushAccepted:
    """Daraja accepted the push: the payment is pending a callback."""

    payment_id: int
    status: str
    merchant_request_id: str
    checkout_request_id: str
    response_code: str
    response_description: str
    customer_message: str
    replayed: bool = False


class ReplayedPaymentError(PaymentError):
    """The push with this Idempotency-Key ended in this error: the same
    answer again (status, code, message and ids as first sent)."""

    def __init__(self, *, status_code: int, body: dict) -> None:
        error = dict(body.get("error") or {})
        self.status_code = status_code
        self.code = str(error.pop("code", "error"))
        message = str(error.pop("message", self.default_message))
        fields = error.pop("fields", None)
        super().__init__(message, **error)
        self._fields = fields

    @property
    def fields(self) -> dict | None:
        return self._fields

    def headers(self) -> dict[str, str]:
        return {"Idempotent-Replayed": "true"}


def payment_replay_outcome(
    *, user: AbstractBaseUser | AnonymousUser, key: str, booking_id: int
) -> PushAccepted | None:
    """The stored outcome for this user's key, or None for a new key.

    Returns the accepted push (``replayed``) or raises the stored error as
    ``ReplayedPaymentError``. Raises ``IdempotencyKeyReused`` for another
    booking and ``PaymentAlreadyInProgress`` while the first request is
    unanswered.
    """
    payment = Payment.objects.filter(initiated_by=user, idempotency_key=key).first()
    if payment is None:
        return None
    if payment.booking_id != booking_id:
        raise IdempotencyKeyReused()
    stored = payment.idempotent_response
    if stored is None:
        # The first request with this key is still being processed.
        raise PaymentAlreadyInProgress(
            payment_id=payment.pk, checkout_request_id=payment.checkout_request_id
        )
    if payment.idempotent_status_code != ACCEPTED_STATUS:
        raise ReplayedPaymentError(
            status_code=payment.idempotent_status_code, body=stored
        )
    return _accepted_from(stored)


def payment_store_accepted(payment: Payment, accepted: PushAccepted) -> None:
    """Keep an accepted push for replays, in the 201 answer's own keys (so
    a process of the previous release replays it unchanged)."""
    if not payment.idempotency_key:
        return
    stored = {key: getattr(accepted, name) for key, name in _ANSWER_KEYS.items()}
    stored.update(payment_id=accepted.payment_id, status=accepted.status)
    _store(payment.pk, ACCEPTED_STATUS, stored)


def payment_store_error(*, payment_id: int, error: PaymentError) -> None:
    """Keep the error a push ended in, on a payment pushed with a key."""
    _store(payment_id, error.status_code, error.as_body())


def _store(payment_id: int, status_code: int, outcome: dict) -> None:
    # One UPDATE of these two columns, only for a push with a key: no read
    # and no read-modify-write, so no lock.
    Payment.objects.filter(pk=payment_id, idempotency_key__isnull=False).update(
        idempotent_status_code=status_code, idempotent_response=outcome
    )


# The stored 201 answer's keys (the seed guide's Daraja casing).
_ANSWER_KEYS = {
    "MerchantRequestID": "merchant_request_id",
    "CheckoutRequestID": "checkout_request_id",
    "ResponseCode": "response_code",
    "ResponseDescription": "response_description",
    "CustomerMessage": "customer_message",
}


def _accepted_from(stored: dict) -> PushAccepted:
    fields = {_ANSWER_KEYS.get(key, key): value for key, value in stored.items()}
    return PushAccepted(**fields, replayed=True)
