"""The read-only checks of ``payments.services.reapply``: whether a stored
report still has money to apply.

Each answers from the ledger and the payments as they stand, with no lock
and no write: a receipt already in ``MpesaReceipt``, a payment still open,
an amount the ledger can hold, and whether a callback whose receipt is in
the ledger still teaches a payment its money.
"""

from decimal import Decimal

from payments.daraja.callbacks import StkCallback
from payments.models import MpesaReceipt, MpesaReceiptSighting, Payment


def ledger_takes(amount: Decimal | None) -> bool:
    """A whole number of shillings ``MpesaReceipt.amount`` can hold."""
    return (
        amount is not None
        and amount.is_finite()
        and amount == amount.to_integral_value()
        and 1 <= amount < 2**31
    )


def payment_would_learn(callback: StkCallback, receipt: str) -> bool:
    """Whether the callback, its receipt already in the ledger (e.g. its
    C2B copy came first and paid the booking), still teaches a payment its
    money: its payment does not hold that receipt (the copy closed it
    "paid by Paybill"; the settlement completes it as that money or sends
    it to review), or, for a push we never learned the id of, no STK
    callback has reported the receipt (its sighting is what lets the push
    of unknown outcome settle on it: ``unknown_outcome``)."""
    payment = (
        Payment.objects.filter(checkout_request_id=callback.checkout_request_id)
        .only("mpesa_receipt_number")
        .first()
    )
    if payment is not None:
        return payment.mpesa_receipt_number != receipt
    return not MpesaReceiptSighting.objects.filter(
        receipt__receipt_number=receipt,
        source=MpesaReceiptSighting.Source.STK_CALLBACK,
    ).exists()


def in_ledger(receipt_number: str) -> bool:
    """The ledger holds this receipt."""
    return MpesaReceipt.objects.filter(receipt_number=receipt_number).exists()


def payment_open(checkout_request_id: str) -> bool:
    """The payment of this CheckoutRequestID is still open."""
    return Payment.objects.filter(
        checkout_request_id=checkout_request_id, status__in=Payment.OPEN_STATUSES
    ).exists()
