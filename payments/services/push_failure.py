"""What a failed STK push means for its payment.

Refused by Daraja: ``failed`` with Daraja's reason. Unreachable or not
sent: ``failed``, nothing was charged. No answer (a read time-out): left
``initiated`` with a note, because the prompt may have reached the phone;
a success callback that came meanwhile is matched to it
(``payments.services.unmatched``), else the reconciliation settles it, and
the push is never sent again blindly.
"""

import logging

from django.db import transaction

from payments.daraja.exceptions import (
    DarajaError,
    DarajaOutcomeUnknown,
    DarajaRejected,
    DarajaUnavailable,
)
from payments.exceptions import (
    PaymentError,
    PaymentProviderRejected,
    PaymentProviderUnavailable,
)
from payments.models import Payment, PaymentEvent
from payments.services.events import event_record
from payments.services.idempotency import payment_store_error
from payments.services.transitions import payment_fail_push
from payments.services.unmatched import payment_adopt_unmatched_receipt
from payments.services.unmatched_candidates import OUTCOME_UNKNOWN_NOTE

logger = logging.getLogger(__name__)
Status = Payment.Status


def payment_record_push_failure(*, payment_id: int, exc: DarajaError) -> PaymentError:
    """Record what Daraja's failure means for the payment.

    Side effects: a transition to ``failed`` or a note, the stored answer.
    Returns the API error for the caller to raise.
    """
    error: PaymentError
    with transaction.atomic():
        if isinstance(exc, DarajaRejected):
            payment_fail_push(
                payment_id=payment_id,
                reason=f"Daraja refused the push: {exc.error_code}",
                result_code=exc.error_code,
                result_desc=exc.error_message,
                failure_reason=_rejection_reason(exc),
            )
            error = PaymentProviderRejected(
                error_code=exc.error_code,
                error_message=exc.error_message,
                payment_id=payment_id,
            )
        elif isinstance(exc, DarajaOutcomeUnknown):
            event_record(
                kind=PaymentEvent.Kind.NOTE,
                payment_id=payment_id,
                reason=OUTCOME_UNKNOWN_NOTE,
            )
            error = PaymentProviderUnavailable(
                "M-Pesa did not answer in time. If a prompt reached your phone, "
                "you may complete it; we will confirm the outcome.",
                payment_id=payment_id,
            )
        else:
            # Unreachable, or refused before sending (e.g. a configuration
            # problem): nothing reached the phone.
            if not isinstance(exc, DarajaUnavailable):
                logger.error("STK push not sent for payment %s: %s", payment_id, exc)
            payment_fail_push(
                payment_id=payment_id,
                reason=f"push not sent: {exc}",
                result_code="unavailable",
                failure_reason="M-Pesa could not be reached. Nothing was charged.",
            )
            error = PaymentProviderUnavailable(payment_id=payment_id)
        payment_store_error(payment_id=payment_id, error=error)
    if isinstance(exc, DarajaOutcomeUnknown):
        # Its callback may have come while we waited for the answer.
        payment_adopt_unmatched_receipt(payment_id=payment_id)
    return error


def _rejection_reason(exc: DarajaRejected) -> str:
    if exc.is_subscriber_locked:
        return "Another M-Pesa prompt is open on your phone. Finish it first."
    return f"M-Pesa refused the request: {exc.error_message}"
