"""Reads of payments. Visibility: a client sees payments of their own
bookings (or that they started); a user with ``payments.view_payment``
(the Support and Finance groups) sees all. ``is_staff`` alone grants
nothing here: it only lets a user into the admin."""

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import router
from django.db.models import Exists, OuterRef, Q, QuerySet

from core.compiled_sql import IntSlot, Slot, select_compiled
from payments.daraja.callbacks import StkCallback, parse_stk_callback
from payments.daraja.exceptions import CallbackParseError
from payments.exceptions import PaymentNotFound
from payments.models import MpesaReceipt, Payment, PaymentEvent

VIEW_ANY = "payments.view_payment"


def _visible_to(user: AbstractBaseUser) -> QuerySet[Payment]:
    payments = Payment.objects.select_related("booking")
    if user.has_perm(VIEW_ANY):
        return payments
    return payments.filter(Q(booking__client=user) | Q(initiated_by=user))


def _may_see(user: AbstractBaseUser, payment: Payment) -> bool:
    # Ownership first: the status poll of a client costs no permission query.
    owners = (payment.booking.client_id, payment.initiated_by_id)
    return user.pk in owners or user.has_perm(VIEW_ANY)


def _get_visible(user: AbstractBaseUser, **lookup: object) -> Payment:
    """One payment by a unique lookup, if the user may see it: an indexed
    get with visibility checked on the row (no OR join, no ORDER BY)."""
    try:
        payment = Payment.objects.select_related("booking").get(**lookup)
    except Payment.DoesNotExist:
        raise PaymentNotFound() from None
    if not _may_see(user, payment):
        raise PaymentNotFound()
    return payment


def payment_get_by_checkout_id(
    *, checkout_request_id: str, user: AbstractBaseUser
) -> Payment:
    """The payment with this CheckoutRequestID if the user may see it
    (the hot path of status polling)."""
    return _get_visible(user, checkout_request_id=checkout_request_id)


def payment_get(*, payment_id: int, user: AbstractBaseUser) -> Payment:
    """The payment with this id if the user may see it."""
    return _get_visible(user, pk=payment_id)


def payment_list(
    *, user: AbstractBaseUser, status: str | None = None, booking_id: int | None = None
) -> QuerySet[Payment]:
    """The user's payments (all with ``view_payment``), newest first,
    optionally filtered."""
    payments = _visible_to(user)
    if status:
        payments = payments.filter(status=status)
    if booking_id:
        payments = payments.filter(booking_id=booking_id)
    return payments


def payment_read(*, payment_id: int) -> Payment:
    """The payment, unlocked (``PaymentNotFound`` when there is none);
    compiled once (``core.compiled_sql``): the sweep reads one per query."""
    found = select_compiled(
        Payment,
        "payment_read",
        lambda: Payment.objects.filter(pk=_PAYMENT_ID),
        {_PAYMENT_ID: payment_id},
        using=router.db_for_read(Payment),
    )
    if not found:
        raise PaymentNotFound()
    return found[0]


_PAYMENT_ID = IntSlot("payment_id")
_CHECKOUT_ID = Slot("checkout_request_id")


def latest_success_callback(
    *, payment_id: int, checkout_request_id: str | None = None
) -> tuple[StkCallback, int] | None:
    """The newest stored success callback for a payment and its event's id,
    if any (also one stored unmatched, before the payment had its
    CheckoutRequestID)."""
    # Compiled once; a payment without a CheckoutRequestID matches no
    # unmatched event by the empty id, as unmatched events have one.
    events = select_compiled(
        PaymentEvent,
        "latest_success_callback",
        _stored_callbacks,
        {_PAYMENT_ID: payment_id, _CHECKOUT_ID: checkout_request_id or ""},
        using=router.db_for_read(PaymentEvent),
    )
    for event in events:
        try:
            callback = parse_stk_callback(event.request_body)
        except CallbackParseError:
            continue
        if callback.is_success:
            return callback, event.pk
    return None


def _stored_callbacks() -> QuerySet[PaymentEvent]:
    """Stored callbacks of a payment, or unmatched ones with its
    CheckoutRequestID, newest first (only what the caller reads)."""
    mine = Q(payment_id=_PAYMENT_ID) | Q(
        payment__isnull=True, checkout_request_id=_CHECKOUT_ID
    ) & ~Q(checkout_request_id="")
    return (
        PaymentEvent.objects.filter(mine, kind=PaymentEvent.Kind.CALLBACK, error="")
        .order_by("-created_at", "-id")
        .only("id", "request_body")
    )


def payment_receipt_held_elsewhere(*, receipt: str, payment_id: int | None) -> bool:
    """Whether a payment other than ``payment_id`` holds ``receipt``."""
    holders = Payment.objects.filter(mpesa_receipt_number=receipt)
    return holders.exclude(pk=payment_id).exists()


def payments_receipt_pending() -> QuerySet[Payment]:
    """Completed payments whose M-Pesa receipt we do not know yet ("receipt
    pending"): an STK Query completed them, and queries never return the
    receipt. A payment leaves this list once a later source supplies the
    receipt, on the payment or as a ledger receipt allocated to it."""
    ledger = MpesaReceipt.objects.filter(payment=OuterRef("pk"))
    return Payment.objects.filter(
        Q(mpesa_receipt_number__isnull=True) | Q(mpesa_receipt_number=""),
        ~Exists(ledger),
        status=Payment.Status.COMPLETED,
    )
