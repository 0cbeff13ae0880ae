"""Celery tasks: thin interfaces that load by id and call a service."""

import logging

from celery import shared_task
from django.conf import settings

from payments.daraja.exceptions import DarajaUnavailable
from payments.exceptions import PaymentProviderUnavailable
from payments.models import Payment, PaymentEvent
from payments.services.batch import payment_reconcile_pending
from payments.services.callbacks import payment_replay_spooled_callbacks
from payments.services.reapply import reports_reapply_stored
from payments.services.reconciliation import payment_query
from payments.services.refund_automatic import refunds_request_due
from payments.services.refund_submission import refund_submit
from payments.services.refund_sweep import refunds_reconcile
from payments.services.unknown_outcome import payment_settle_from_booking_receipt
from payments.services.verification import payment_verify_callback

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    autoretry_for=(PaymentProviderUnavailable,),
    retry_backoff=15,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=5,
)
def payment_query_task(self, payment_id: int) -> str:
    """Query Daraja about an open payment no callback has settled yet.

    Retried with backoff while Daraja is unreachable; a payment already
    settled by its callback is left alone.
    """
    if not Payment.objects.filter(
        pk=payment_id, status__in=Payment.OPEN_STATUSES
    ).exists():
        return "settled"
    outcome = payment_query(payment_id=payment_id)  # raises when unreachable
    # "still_pending" is left to the periodic sweep, which runs every minute.
    return outcome.answer


@shared_task(
    bind=True,
    autoretry_for=(DarajaUnavailable,),
    retry_backoff=10,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=8,
)
def payment_verify_callback_task(self, event_id: int) -> str:
    """Confirm a success callback with an STK query (MPESA_VERIFY_CALLBACKS).

    Retried while Daraja is unreachable or still processing.
    """
    event = PaymentEvent.objects.get(pk=event_id)
    change = payment_verify_callback(event=event)
    return change.payment.status if change else "unknown"


@shared_task
def payment_settle_from_booking_receipt_task(receipt_number: str) -> int | None:
    """Complete the payment of unknown outcome whose own money the receipt,
    just allocated to its booking, is (None: none could be completed)."""
    return payment_settle_from_booking_receipt(receipt_number=receipt_number)


@shared_task
def payment_reconcile_pending_task() -> dict:
    """Beat: the same sweep as ``manage.py query_pending``, every minute."""
    payment_replay_spooled_callbacks()  # after an outage, on this host
    summary = payment_reconcile_pending(
        older_than=settings.MPESA_QUERY_AFTER_SECONDS,
        concurrency=4,
        limit=500,
    )
    result = summary.as_dict()
    logger.info("reconciliation: %s", result)
    return result


@shared_task
def reports_reapply_stored_task() -> dict:
    """Beat: ``manage.py reapply_stored_reports`` every
    MPESA_REAPPLY_INTERVAL_SECONDS (hourly)."""
    result = reports_reapply_stored().as_dict()
    if result["still_failing"]:
        logger.warning("stored reports still failing: %s", result["errors"])
    return result


@shared_task
def refunds_request_due_task() -> dict:
    """Beat: request the refunds bookings owe (a person approves each)."""
    done = refunds_request_due()
    return {"requested": done.requested, "refused": done.refused}


@shared_task
def refund_submit_task(refund_id: int) -> str:
    """Send an approved refund to M-Pesa. Never retried here: a refund not
    sent goes back to ``approved`` and the refunds sweep sends it again."""
    return refund_submit(refund_id=refund_id).status


@shared_task
def refunds_reconcile_task() -> dict:
    """Beat "reconcile-refunds": the refunds sweep (``refund_sweep``), every
    MPESA_RECONCILE_INTERVAL_SECONDS, as ``manage.py query_pending`` runs it."""
    return refunds_reconcile().as_dict()
