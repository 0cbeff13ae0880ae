"""Sending an approved refund to M-Pesa, once.

``refund_submit`` commits ``submitted`` before anything leaves (so two
workers never both send, and a crash mid-send leaves a refund that only
M-Pesa's answer resolves), then makes one Reversal or B2C request under
the refund's own ``originator_conversation_id``, never retried. What the
request's answer means:

- accepted: its ids are kept; the result comes to the ResultURL.
- sent with no usable answer (a read time-out, a dropped connection, an
  unexpected error after sending): ``unknown``; Transaction Status asks.
- refused by Daraja with an error code: ``failed`` (nothing moved).
- never sent (Daraja unreachable, throttled, our configuration incomplete):
  back to ``approved``, noted; the refunds sweep sends it again later.
"""

import logging

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from payments.daraja.exceptions import (
    DarajaAuthError,
    DarajaOutcomeUnknown,
    DarajaRejected,
    DarajaUnavailable,
    DarajaValidationError,
)
from payments.models import PaymentEvent, Refund
from payments.services import daraja_client
from payments.services.events import event_record, exchange_recorder
from payments.services.refund_transitions import (
    refund_lock,
    refund_move,
    refund_record_acceptance,
)

logger = logging.getLogger(__name__)
Status = Refund.Status
# HTTP statuses with which Daraja says it did not process a request.
# Proof that Daraja never processed a money request: no HTTP answer at all
# (the connection was refused), 429, or spike arrest's own codes. A bare 503
# (a gateway may answer it after M-Pesa got the request) or 500.003.1001
# ("internal server error") proves nothing: those are ``unknown``.
_NOT_PROCESSED_STATUSES = (None, 429)
_NOT_PROCESSED_CODES = ("500.003.02", "500.003.03")
REMARKS = "Haki Yetu refund"


def refund_submit(*, refund_id: int) -> Refund:
    """Send one approved refund to M-Pesa; returns it as it is now.

    A refund that is not ``approved`` (already sent, decided, cancelled) is
    returned unchanged: nothing is sent twice.
    """
    try:
        client = daraja_client.daraja()
    except ImproperlyConfigured as exc:
        event_record(
            kind=PaymentEvent.Kind.NOTE,
            refund_id=refund_id,
            reason=f"not sent: M-Pesa is not configured ({exc})",
        )
        logger.error("refund %s not sent: %s", refund_id, exc)
        return Refund.objects.get(pk=refund_id)
    with transaction.atomic():
        refund = refund_lock(refund_id=refund_id)
        if refund.status != Status.APPROVED:
            logger.info("refund %s is %s: not sent", refund.pk, refund.status)
            return refund
        refund_move(
            refund,
            to=Status.SUBMITTED,
            reason=f"sending the {refund.get_method_display()} to M-Pesa",
            submitted_at=timezone.now(),
        )
        receipt_number = refund.receipt.receipt_number
    try:
        accepted = _send(client, refund, receipt_number)
    except DarajaOutcomeUnknown as exc:
        return _outcome_unknown(refund, f"no answer from M-Pesa: {exc}")
    except DarajaAuthError as exc:
        # Our token or credentials refused before the request was read.
        return _not_sent(refund, f"not sent: M-Pesa refused our access: {exc}")
    except DarajaRejected as exc:
        if exc.is_duplicate_originator or (exc.http_status or 0) >= 500:
            # M-Pesa has an earlier request with this id, or failed with
            # an error code after reading ours: its outcome stands.
            return _outcome_unknown(refund, f"M-Pesa answered {exc}: outcome unknown")
        return _refused(refund, exc)
    except DarajaValidationError as exc:
        return _not_sent(refund, f"not sent: {exc}")
    except DarajaUnavailable as exc:
        if exc.http_status in _NOT_PROCESSED_STATUSES or (
            exc.error_code in _NOT_PROCESSED_CODES  # spike arrest: refused unread
        ):
            return _not_sent(refund, f"M-Pesa unavailable, not sent: {exc.message}")
        return _outcome_unknown(refund, f"M-Pesa failed ({exc.http_status}): {exc}")
    except Exception as exc:  # after sending: never assume
        logger.exception("refund %s: unexpected error while sending", refund.pk)
        return _outcome_unknown(refund, f"unexpected error while sending: {exc!r:.200}")
    return refund_record_acceptance(
        refund_id=refund.pk,
        conversation_id=accepted.conversation_id,
        originator_conversation_id=accepted.originator_conversation_id,
    )


def _send(client, refund: Refund, receipt_number: str):
    recorder = exchange_recorder(None, refund_id=refund.pk)
    ours = str(refund.originator_conversation_id)
    if refund.method == Refund.Method.REVERSAL:
        return client.reversal(
            transaction_id=receipt_number,
            amount=refund.amount,
            originator_conversation_id=ours,
            remarks=REMARKS,
            occasion=f"Refund {refund.pk}",
            on_exchange=recorder,
        )
    return client.b2c_payment(
        originator_conversation_id=ours,
        phone_number=refund.recipient_phone,
        amount=refund.amount,
        remarks=REMARKS,
        occasion=f"Refund {refund.pk} of {receipt_number}",
        on_exchange=recorder,
    )


def _outcome_unknown(refund: Refund, reason: str) -> Refund:
    return _settle_submission(refund, to=Status.UNKNOWN, reason=reason)


def _refused(refund: Refund, exc: DarajaRejected) -> Refund:
    return _settle_submission(
        refund,
        to=Status.FAILED,
        reason=f"refused by M-Pesa: {exc.error_code} {exc.error_message}",
        result_code=exc.error_code[:16],
        result_description=exc.error_message,
        resolved_at=timezone.now(),
    )


def _not_sent(refund: Refund, reason: str) -> Refund:
    return _settle_submission(refund, to=Status.APPROVED, reason=reason)


def _settle_submission(refund: Refund, *, to: str, reason: str, **fields) -> Refund:
    """Move a refund this submission left ``submitted``; a result that came
    in meanwhile wins (the refund is no longer ``submitted``)."""
    with transaction.atomic():
        refund = refund_lock(refund_id=refund.pk)
        if refund.status != Status.SUBMITTED:
            event_record(
                kind=PaymentEvent.Kind.NOTE, refund_id=refund.pk, reason=reason
            )
            return refund
        refund_move(refund, to=to, reason=reason, **fields)
    logger.warning("refund %s %s: %s", refund.pk, to, reason)
    return refund
