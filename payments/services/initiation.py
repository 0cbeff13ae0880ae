"""Starting a payment: ``payment_initiate`` (POST .../stk-push).

Order of work (no lock or transaction is held during the HTTP call):
commit the payment as ``initiated``, call Daraja, then move it to
``pending`` (accepted), ``failed`` (refused or unreachable) or leave it
``initiated`` when the outcome is unknown (a read time-out: the prompt may
have reached the phone, so it is never sent again blindly; the
reconciliation settles it).
"""

import logging
import math
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings.selectors import booking_get_for_user
from bookings.services import booking_assert_payable, booking_extend_hold
from payments.daraja.client import DarajaClient, get_client
from payments.daraja.exceptions import (
    DarajaError,
    DarajaOutcomeUnknown,
    DarajaRejected,
    DarajaUnavailable,
    DarajaValidationError,
)
from payments.daraja.phone import mask_phone, normalise_phone
from payments.daraja.types import StkPushResult
from payments.daraja.validation import shorten_description, validate_account_reference
from payments.exceptions import (
    AmountMismatch,
    IdempotencyKeyReused,
    InvalidPaymentInput,
    PaymentAlreadyInProgress,
    PaymentError,
    PaymentProviderRejected,
    PaymentProviderUnavailable,
    PaymentRetryTooSoon,
)
from payments.models import Payment, PaymentEvent
from payments.services.callbacks import payment_apply_stored_callback
from payments.services.events import event_record, exchange_recorder
from payments.services.scheduling import schedule_payment_query
from payments.services.transitions import apply_transition, payment_lock

logger = logging.getLogger(__name__)
Status = Payment.Status


@dataclass(frozen=True, slots=True)
class InitiationAnswer:
    """The API's answer to a push; stored for Idempotency-Key replays."""

    payment_id: int
    http_status: int
    body: dict
    replayed: bool = False


def payment_initiate(
    *,
    user,
    booking_id: int,
    phone_number: str,
    amount: int | None = None,
    idempotency_key: str | None = None,
    account_reference: str | None = None,
    transaction_desc: str | None = None,
    client: DarajaClient | None = None,
) -> InitiationAnswer:
    """Send an STK Push for the booking's outstanding amount.

    Side effects: a Payment row, events for every exchange, the booking's
    hold extended, a follow-up query scheduled. Raises a ``PaymentError``
    (400/404/409/422) before anything is sent, ``PaymentProviderRejected``
    (502) when Daraja refuses, ``PaymentProviderUnavailable`` (503) when it
    cannot be reached or the outcome is unknown.
    """
    phone = _normalise(phone_number)
    if idempotency_key:
        replay = _replay(user=user, key=idempotency_key, booking_id=booking_id)
        if replay:
            return replay
    booking = booking_get_for_user(booking_id=booking_id, user=user)
    if amount is not None and amount != booking.amount:
        raise AmountMismatch(
            f"This booking costs KES {booking.amount}; you sent {amount}.",
            expected_amount=booking.amount,
        )
    reference = _reference(account_reference, booking_id=booking.pk)
    payment = _create_payment(
        user=user, booking=booking, phone=phone, idempotency_key=idempotency_key
    )
    try:
        push = (client or get_client()).stk_push(
            phone_number=phone,
            amount=payment.amount,
            account_reference=reference,
            transaction_desc=shorten_description(transaction_desc or "Consultation"),
            on_exchange=exchange_recorder(payment.pk),
        )
    except DarajaError as exc:
        _raise_provider_error(payment, exc)
    return _accept(payment, push)


def _normalise(phone_number: str) -> str:
    try:
        return normalise_phone(phone_number)
    except DarajaValidationError as exc:
        raise InvalidPaymentInput(exc.message, field="phone_number") from exc


def _reference(value: str | None, *, booking_id: int) -> str:
    try:
        return validate_account_reference(value or f"HY{booking_id}")
    except DarajaValidationError as exc:
        raise InvalidPaymentInput(exc.message, field="account_reference") from exc


def _replay(*, user, key: str, booking_id: int) -> InitiationAnswer | None:
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


def _create_payment(
    *, user, booking, phone: str, idempotency_key: str | None
) -> Payment:
    """Commit an ``initiated`` payment, refusing a second open one."""
    _refuse_while_open_or_recently_failed(booking.pk)
    booking_assert_payable(booking=booking)
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                booking=booking,
                amount=booking.amount,
                phone_number=phone,
                initiated_by=user if user.is_authenticated else None,
                idempotency_key=idempotency_key or None,
            )
            event_record(
                kind=PaymentEvent.Kind.STATUS_CHANGE,
                payment_id=payment.pk,
                to_status=Status.INITIATED,
                reason="STK push requested",
                actor=user if user.is_authenticated else None,
            )
    except IntegrityError:
        # Lost a race: another push for this booking or with this key.
        if idempotency_key:
            replay = _replay(user=user, key=idempotency_key, booking_id=booking.pk)
            if replay:
                raise PaymentAlreadyInProgress(
                    payment_id=replay.payment_id, checkout_request_id=None
                ) from None
        _refuse_while_open_or_recently_failed(booking.pk)
        raise
    logger.info(
        "payment %s initiated for booking %s, phone %s",
        payment.pk,
        booking.pk,
        mask_phone(phone),
        extra={"payment_id": payment.pk, "booking_id": booking.pk},
    )
    return payment


def _refuse_while_open_or_recently_failed(booking_id: int) -> None:
    open_payment = Payment.objects.filter(
        booking_id=booking_id, status__in=Payment.OPEN_STATUSES
    ).first()
    if open_payment:
        raise PaymentAlreadyInProgress(
            payment_id=open_payment.pk,
            checkout_request_id=open_payment.checkout_request_id,
        )
    wait = timedelta(seconds=settings.MPESA_RETRY_AFTER_FAILURE_SECONDS)
    last_failure = (
        Payment.objects.filter(
            booking_id=booking_id,
            status__in=(Status.FAILED, Status.EXPIRED),
            updated_at__gt=timezone.now() - wait,
        )
        .order_by("-updated_at")
        .values_list("updated_at", flat=True)
        .first()
    )
    if last_failure:
        remaining = (last_failure + wait - timezone.now()).total_seconds()
        raise PaymentRetryTooSoon(retry_after=max(1, math.ceil(remaining)))


def _accept(payment: Payment, push: StkPushResult) -> InitiationAnswer:
    """Daraja accepted the push: pending, hold extended, query scheduled."""
    now = timezone.now()
    with transaction.atomic():
        locked = payment_lock(payment_id=payment.pk)
        apply_transition(
            locked,
            to=Status.PENDING,
            reason="Daraja accepted the STK push",
            merchant_request_id=push.merchant_request_id[:64],
            checkout_request_id=push.checkout_request_id[:64],
            accepted_at=now,
        )
        lifetime = timedelta(seconds=settings.MPESA_STK_LIFETIME_SECONDS)
        booking_extend_hold(booking_id=locked.booking_id, until=now + lifetime)
        body = {
            "MerchantRequestID": push.merchant_request_id,
            "CheckoutRequestID": push.checkout_request_id,
            "ResponseCode": push.response_code,
            "ResponseDescription": push.response_description,
            "CustomerMessage": push.customer_message,
            "payment_id": locked.pk,
            "status": locked.status,
        }
        _store_answer(locked, 201, body)
        schedule_payment_query(payment_id=locked.pk)
    _apply_early_callbacks(locked)
    return InitiationAnswer(payment_id=locked.pk, http_status=201, body=body)


def _apply_early_callbacks(payment: Payment) -> None:
    """Apply callbacks that arrived before this push's answer was committed.

    Daraja may call back (a quick customer, or a slow commit here) before
    ``_accept`` stores the CheckoutRequestID: the callback is then kept with
    no payment. Its event is committed before the callback looked for the
    payment, so it is visible here once our own commit is done.
    """
    early = PaymentEvent.objects.filter(
        kind=PaymentEvent.Kind.CALLBACK,
        payment__isnull=True,
        checkout_request_id=payment.checkout_request_id,
        error="",
    ).order_by("id")
    for event in early:
        payment_apply_stored_callback(event=event, payment_id=payment.pk)


def _raise_provider_error(payment: Payment, exc: DarajaError) -> None:
    """Record what Daraja's failure means for the payment, then raise."""
    error: PaymentError
    with transaction.atomic():
        locked = payment_lock(payment_id=payment.pk)
        if isinstance(exc, DarajaRejected):
            apply_transition(
                locked,
                to=Status.FAILED,
                reason=f"Daraja refused the push: {exc.error_code}",
                result_code=exc.error_code[:32],
                result_desc=exc.error_message[:255],
                failure_reason=_rejection_reason(exc)[:255],
            )
            error = PaymentProviderRejected(
                error_code=exc.error_code,
                error_message=exc.error_message,
                payment_id=locked.pk,
            )
        elif isinstance(exc, DarajaOutcomeUnknown):
            event_record(
                kind=PaymentEvent.Kind.NOTE,
                payment_id=locked.pk,
                reason="push outcome unknown (no answer from Daraja); the "
                "reconciliation will settle it",
            )
            error = PaymentProviderUnavailable(
                "M-Pesa did not answer in time. If a prompt reached your phone, "
                "you may complete it; we will confirm the outcome.",
                payment_id=locked.pk,
            )
        else:
            # Unreachable, or refused before sending (e.g. a configuration
            # problem): nothing reached the phone.
            if not isinstance(exc, DarajaUnavailable):
                logger.error("STK push not sent for payment %s: %s", locked.pk, exc)
            apply_transition(
                locked,
                to=Status.FAILED,
                reason=f"push not sent: {exc}",
                result_code="unavailable",
                failure_reason="M-Pesa could not be reached. Nothing was charged.",
            )
            error = PaymentProviderUnavailable(payment_id=locked.pk)
        _store_answer(locked, error.status_code, error.as_body())
    raise error from exc


def _rejection_reason(exc: DarajaRejected) -> str:
    if exc.is_subscriber_locked:
        return "Another M-Pesa prompt is open on your phone. Finish it first."
    return f"M-Pesa refused the request: {exc.error_message}"


def _store_answer(payment: Payment, http_status: int, body: dict) -> None:
    if not payment.idempotency_key:
        return
    payment.idempotent_status_code = http_status
    payment.idempotent_response = body
    payment.save(update_fields=["idempotent_status_code", "idempotent_response"])
