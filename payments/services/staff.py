"""Staff actions on payments (Django admin): manual resolution."""

import logging

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError

from payments.exceptions import InvalidPaymentInput
from payments.models import Payment
from payments.selectors import payment_receipt_held_elsewhere
from payments.services.reports import receipt_is_valid
from payments.services.transitions import payment_resolve

logger = logging.getLogger(__name__)
Status = Payment.Status

RECEIPT_FIELD = "mpesa_receipt_number"


def payment_resolve_manually(
    *,
    payment_id: int,
    to: str,
    note: str,
    actor: AbstractBaseUser,
    mpesa_receipt_number: str | None = None,
) -> Payment:
    """Move a payment to ``to`` on a staff member's word, with a note.

    ``to`` must be allowed from the current status. Resolving to
    ``completed`` needs the M-Pesa receipt (normalised to upper case, on
    no other payment, and the one on record if Daraja reported one) and
    confirms the booking in the same transaction; if the booking cannot be
    confirmed, nothing changes and the error says why.
    Side effects: a staff-action event and a status-change event.
    Raises ``InvalidPaymentInput`` (note, receipt) and
    ``InvalidPaymentTransition``.
    """
    note = (note or "").strip()
    if not note:
        raise InvalidPaymentInput(
            "A note explaining the resolution is required.", field="note"
        )
    receipt = None
    if to == Status.COMPLETED:
        receipt = receipt_normalise(mpesa_receipt_number)
    try:
        change = payment_resolve(
            payment_id=payment_id,
            to=to,
            note=note,
            actor=actor,
            receipt=receipt,
            check_receipt=_check_receipt,
        )
    except IntegrityError as exc:
        if receipt is None:
            raise
        # Another payment took the receipt between our check and our save.
        raise _receipt_taken(receipt) from exc
    payment = change.payment
    logger.info("payment %s resolved to %s by staff user %s", payment.pk, to, actor.pk)
    return payment


def receipt_normalise(value: str | None) -> str:
    """``value`` as a receipt number (upper case), or ``InvalidPaymentInput``."""
    receipt = (value or "").strip().upper()
    if not receipt:
        raise InvalidPaymentInput(
            "Enter the M-Pesa receipt number to complete a payment.",
            field=RECEIPT_FIELD,
        )
    if not receipt_is_valid(receipt):
        raise InvalidPaymentInput(
            "An M-Pesa receipt number is 1 to 20 letters and digits, e.g. NLJ7RT61SV.",
            field=RECEIPT_FIELD,
        )
    return receipt


def payment_allowed_targets(payment: Payment) -> list[str]:
    """Statuses staff may resolve this payment to."""
    return sorted(Payment.ALLOWED_TRANSITIONS.get(payment.status, ()))


def _check_receipt(payment: Payment, receipt: str) -> None:
    on_record = payment.mpesa_receipt_number
    if on_record and on_record != receipt:
        raise InvalidPaymentInput(
            f"Daraja reported receipt {on_record} for this payment; "
            f"{receipt} does not match it.",
            field=RECEIPT_FIELD,
        )
    if payment_receipt_held_elsewhere(receipt=receipt, payment_id=payment.pk):
        raise _receipt_taken(receipt)


def _receipt_taken(receipt: str | None) -> InvalidPaymentInput:
    return InvalidPaymentInput(
        f"Receipt {receipt} is already on another payment.", field=RECEIPT_FIELD
    )
