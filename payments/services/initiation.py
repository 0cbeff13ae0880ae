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
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings.models import Booking
from bookings.selectors import booking_get_to_pay
from bookings.services import booking_assert_payable
from core.money import format_kes
from payments.callback_url import callback_url_problems
from payments.daraja.client import DarajaClient
from payments.daraja.exceptions import (
    DarajaError,
    DarajaValidationError,
)
from payments.daraja.types import StkPushResult
from payments.daraja.validation import shorten_description, validate_account_reference
from payments.exceptions import (
    AmountMismatch,
    CallbackUrlUnusable,
    InvalidPaymentInput,
    PaymentAlreadyInProgress,
    PaymentRetryTooSoon,
)
from payments.models import Payment, PaymentEvent
from payments.phone import InvalidPhoneNumber, mask_phone, normalise_phone
from payments.services import daraja_client
from payments.services.callbacks import payment_apply_stored_callback
from payments.services.events import event_record, exchange_recorder
from payments.services.idempotency import (
    PushAccepted,
    ReplayedPaymentError,
    payment_replay_outcome,
    payment_store_accepted,
)
from payments.services.metrics import count_status_after_commit
from payments.services.push_failure import payment_record_push_failure
from payments.services.transitions import payment_accept_push

logger = logging.getLogger(__name__)
Status = Payment.Status


def payment_initiate(
    *,
    user: AbstractBaseUser | AnonymousUser,
    booking_id: int,
    phone_number: str,
    amount: int | None = None,
    idempotency_key: str | None = None,
    account_reference: str | None = None,
    transaction_desc: str | None = None,
    client: DarajaClient | None = None,
    phone_throttle: Callable[[str], None] | None = None,
) -> PushAccepted:
    """Send an STK Push for the booking's outstanding amount; returns what
    Daraja accepted (``replayed`` for a repeated Idempotency-Key).

    Side effects: a Payment row, events for every exchange, the booking's
    hold extended, a follow-up query scheduled. Raises a ``PaymentError``
    (400/404/409/422) before anything is sent, ``PaymentProviderRejected``
    (502) when Daraja refuses, ``PaymentProviderUnavailable`` (503) when it
    cannot be reached or the outcome is unknown, ``CallbackUrlUnusable``
    (503) before anything is stored while Daraja could not call us back.
    ``phone_throttle`` is called with the phone once the push passed
    validation and ownership (a stranger's refused pushes never count
    against someone's number); it raises to refuse the push.
    """
    phone = _normalise(phone_number)
    _check_idempotency_key(idempotency_key)
    _refuse_without_usable_callback_url()
    if idempotency_key:
        replay = payment_replay_outcome(
            user=user, key=idempotency_key, booking_id=booking_id
        )
        if replay:
            return replay
    booking = booking_get_to_pay(booking_id=booking_id, user=user)
    if amount is not None and amount != booking.amount:
        raise AmountMismatch(
            f"This booking costs {format_kes(booking.amount)}; "
            f"you sent {format_kes(amount)}.",
            expected_amount=booking.amount,
        )
    # Always the booking's reference: a Paybill confirmation of this STK
    # payment (a double notification) then names the booking in its
    # BillRefNumber. The client's account_reference (the seed guide's SPA
    # sends "HakiYetu") is accepted and ignored.
    reference = _reference(booking.reference)
    if phone_throttle is not None:
        phone_throttle(phone)
    payment = _create_payment(
        user=user, booking=booking, phone=phone, idempotency_key=idempotency_key
    )
    try:
        push = (client or daraja_client.daraja()).stk_push(
            phone_number=phone,
            amount=payment.amount,
            account_reference=reference,
            transaction_desc=shorten_description(transaction_desc or "Consultation"),
            on_exchange=exchange_recorder(payment.pk),
        )
    except DarajaError as exc:
        raise payment_record_push_failure(payment_id=payment.pk, exc=exc) from exc
    return _accept(payment, push)


def _refuse_without_usable_callback_url() -> None:
    """A push whose callback we could never receive is not sent at all."""
    problems = callback_url_problems(
        url=settings.MPESA_CALLBACK_URL,
        secret=settings.MPESA_CALLBACK_SECRET,
        environment=settings.MPESA_ENVIRONMENT,
    )
    if problems:
        logger.error("STK push refused: %s", "; ".join(problems))
        raise CallbackUrlUnusable()


def _normalise(phone_number: str) -> str:
    try:
        return normalise_phone(phone_number)
    except InvalidPhoneNumber as exc:
        raise InvalidPaymentInput(exc.message, field="phone_number") from exc


def _check_idempotency_key(key: str | None) -> None:
    limit = Payment._meta.get_field("idempotency_key").max_length
    if key and len(key) > limit:
        raise InvalidPaymentInput(
            f"Send an Idempotency-Key of at most {limit} characters.",
            field="Idempotency-Key",
        )


def _reference(booking_reference: str) -> str:
    """The STK AccountReference: the booking's reference (what a Paybill
    payer types as the account number), checked like any reference."""
    try:
        return validate_account_reference(booking_reference)
    except DarajaValidationError as exc:
        raise InvalidPaymentInput(exc.message, field="account_reference") from exc


def _create_payment(
    *,
    user: AbstractBaseUser | AnonymousUser,
    booking: Booking,
    phone: str,
    idempotency_key: str | None,
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
            count_status_after_commit(payment, from_status="")
    except IntegrityError:
        # Lost a race: another push for this booking or with this key.
        if idempotency_key:
            try:
                replay = payment_replay_outcome(
                    user=user, key=idempotency_key, booking_id=booking.pk
                )
            except ReplayedPaymentError:
                replay = None
                other = Payment.objects.filter(
                    initiated_by=user, idempotency_key=idempotency_key
                ).first()
                if other is not None:
                    raise PaymentAlreadyInProgress(
                        payment_id=other.pk, checkout_request_id=None
                    ) from None
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


def _accept(payment: Payment, push: StkPushResult) -> PushAccepted:
    """Daraja accepted the push: pending (hold extended, query scheduled,
    by the owner), and the outcome stored for Idempotency-Key replays."""
    with transaction.atomic():
        change = payment_accept_push(
            payment_id=payment.pk,
            merchant_request_id=push.merchant_request_id,
            checkout_request_id=push.checkout_request_id,
            accepted_at=timezone.now(),
        )
        accepted = PushAccepted(
            payment_id=change.payment.pk,
            status=change.payment.status,
            merchant_request_id=push.merchant_request_id,
            checkout_request_id=push.checkout_request_id,
            response_code=push.response_code,
            response_description=push.response_description,
            customer_message=push.customer_message,
        )
        payment_store_accepted(change.payment, accepted)
    _apply_early_callbacks(change.payment)
    return accepted


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
