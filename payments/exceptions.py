"""Payment domain errors, each with an HTTP status and a stable ``code``.

The API renders them through ``core.exception_handler`` as
``{"error": {"code", "message"}}`` (plus any ``extra`` fields).
"""

from core.errors import DomainError


class PaymentError(DomainError):
    """Base of every payment error."""


class AppendOnlyError(Exception):
    """Someone tried to change or delete a PaymentEvent."""


class InvalidPaymentTransition(PaymentError):
    status_code = 409
    code = "invalid_transition"
    default_message = "That status change is not allowed for this payment."


class PaymentNotFound(PaymentError):
    status_code = 404
    code = "not_found"
    default_message = "No such payment."


class AmountMismatch(PaymentError):
    status_code = 400
    code = "amount_mismatch"
    default_message = "The amount does not match what the booking costs."


class InvalidPaymentInput(PaymentError):
    """Input refused before anything was sent (phone, reference, ...)."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message, field=field)
        self.field = field


class PaymentAlreadyInProgress(PaymentError):
    status_code = 409
    code = "payment_in_progress"
    default_message = (
        "A payment for this booking is already waiting for the customer. "
        "Check your phone, or wait for it to finish."
    )

    def __init__(self, *, payment_id: int, checkout_request_id: str | None) -> None:
        super().__init__(payment_id=payment_id, checkout_request_id=checkout_request_id)
        self.payment_id = payment_id
        self.checkout_request_id = checkout_request_id


class PaymentRetryTooSoon(PaymentError):
    status_code = 409
    code = "retry_too_soon"

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(
            f"The last attempt failed moments ago; try again in {retry_after} s.",
            retry_after=retry_after,
        )
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class IdempotencyKeyReused(PaymentError):
    status_code = 422
    code = "idempotency_key_reused"
    default_message = "This Idempotency-Key was used for a different request."


class PaymentProviderRejected(PaymentError):
    """Daraja refused the request; the payment is failed."""

    status_code = 502
    code = "provider_rejected"

    def __init__(self, *, error_code: str, error_message: str, payment_id: int) -> None:
        super().__init__(
            f"M-Pesa refused the request: {error_message}",
            provider_code=error_code,
            payment_id=payment_id,
        )


class PaymentProviderUnavailable(PaymentError):
    """Daraja could not be reached, or the outcome of a push is unknown."""

    status_code = 503
    code = "provider_unavailable"
    default_message = "M-Pesa could not be reached. Please try again shortly."

    def __init__(self, message: str | None = None, *, payment_id: int) -> None:
        super().__init__(message, payment_id=payment_id)


class CallbackUrlUnusable(PaymentError):
    """``MPESA_CALLBACK_URL`` cannot receive callbacks: nothing is sent."""

    status_code = 503
    code = "callback_url_unusable"
    default_message = (
        "Payments are paused: the server is not set up to hear back from "
        "M-Pesa. Please try again later."
    )


class ReceiptActionRefused(PaymentError):
    """A staff action on a ledger receipt that its state does not allow
    (allocate to a booking, mark for refund); nothing was written."""

    status_code = 409
    code = "receipt_action_refused"
    default_message = "That cannot be done with this receipt."


class InvalidRefundTransition(PaymentError):
    status_code = 409
    code = "invalid_refund_transition"
    default_message = "That status change is not allowed for this refund."


class RefundNotFound(PaymentError):
    status_code = 404
    code = "not_found"
    default_message = "No such refund."


class RefundRefused(PaymentError):
    """A refund request or decision its rules do not allow (maker and
    checker the same person, over the receipt, above the approval limit,
    ...); nothing was written. ``field`` names the input at fault."""

    status_code = 409
    code = "refund_refused"
    default_message = "That refund cannot be made."

    def __init__(self, message: str | None = None, **context: object) -> None:
        super().__init__(message, **context)
        # Input at fault (a field named) is the client's to fix: 400; a rule
        # the refund's state breaks (maker is checker, a paid booking): 409.
        if context.get("field"):
            self.status_code = 400


class RefundPermissionDenied(PaymentError):
    status_code = 403
    code = "permission_denied"
    default_message = "You may not do that with refunds."


class StatusCheckRefused(PaymentError):
    """A Transaction Status check we will not send (no receipt number, one
    that is not an M-Pesa receipt, a refund with nothing to ask about);
    nothing was written. ``field`` names the input at fault."""

    status_code = 400
    code = "status_check_refused"
    default_message = "That cannot be checked with M-Pesa."
