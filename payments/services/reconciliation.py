"""Settling payments by asking Daraja (STK Push Query).

``payment_query`` serves the 90-second follow-up task, the status
endpoint's occasional check, the admin's "Re-query" action and, through
``payment_reconcile_pending``, both ``manage.py query_pending`` and the
periodic beat task. HTTP happens outside any transaction; the answer is
applied under the payment's row lock, so a stale answer never re-decides a
payment a callback has settled meanwhile.
"""

import enum
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone

from core.compiled_sql import update_rows
from payments.daraja.client import DarajaClient
from payments.daraja.exceptions import DarajaRejected, DarajaUnavailable
from payments.daraja.types import StkQueryResult
from payments.exceptions import PaymentProviderUnavailable
from payments.models import Payment, PaymentEvent
from payments.result_codes import SUCCESS
from payments.selectors import latest_success_callback, payment_read
from payments.services import daraja_client
from payments.services.events import event_record, exchange_recorder
from payments.services.reports import SuccessReport, success_report_from_callback
from payments.services.settlement import (
    payment_record_failure,
    payment_record_success,
)
from payments.services.transitions import payment_expire, payment_send_to_review
from payments.services.unmatched import payment_adopt_unmatched_receipt

logger = logging.getLogger(__name__)
Status = Payment.Status


class QueryAnswer(enum.StrEnum):
    """What one query found: a settlement, or why there is none."""

    COMPLETED = "completed"
    FAILED = "failed"
    EXPIRED = "expired"
    NEEDS_REVIEW = "needs_review"
    STILL_PENDING = "still_pending"  # no final answer from Daraja yet
    UNCHANGED = "unchanged"  # an answer, but the payment was settled already
    ERROR = "error"  # Daraja could not be asked (batches only)


@dataclass(frozen=True, slots=True)
class QueryOutcome:
    """What one query did; ``before``/``after`` are statuses."""

    payment_id: int
    before: str
    after: str
    answer: QueryAnswer
    detail: str = ""

    @property
    def changed(self) -> bool:
        return self.before != self.after


def payment_query(
    *,
    payment_id: int,
    client: DarajaClient | None = None,
    dry_run: bool = False,
    actor: AbstractBaseUser | None = None,
) -> QueryOutcome:
    """Ask Daraja about one payment and apply the answer.

    Side effects (unless ``dry_run``): exchange events, a status change,
    ``last_queried_at``. Raises ``PaymentProviderUnavailable`` when Daraja
    cannot be asked (the task retries on it; a batch counts it as an error
    and goes on); a refusal or "still processing" is ``still_pending``.
    """
    payment = payment_read(payment_id=payment_id)
    before = payment.status
    if actor is not None and not dry_run:
        event_record(
            kind=PaymentEvent.Kind.STAFF_ACTION,
            payment_id=payment.pk,
            actor=actor,
            reason="re-query with Daraja requested",
            checkout_request_id=payment.checkout_request_id or "",
        )
    if not payment.checkout_request_id:
        return _settle_without_checkout_id(payment, dry_run=dry_run)
    client = client or daraja_client.daraja()
    recorder = None if dry_run else exchange_recorder(payment.pk)
    try:
        result = client.stk_query(
            checkout_request_id=payment.checkout_request_id, on_exchange=recorder
        )
    except DarajaUnavailable as exc:
        _touch(payment, dry_run=dry_run)
        raise PaymentProviderUnavailable(str(exc), payment_id=payment.pk) from exc
    except DarajaRejected as exc:
        # "does not exist" and other refusals are not a result: indeterminate.
        return _still_unresolved(
            payment, f"{exc.error_code} {exc.error_message}", dry_run
        )
    if result.is_processing:
        return _still_unresolved(payment, "still being processed", dry_run)
    if dry_run:
        answer = (
            QueryAnswer.COMPLETED
            if result.result_code == SUCCESS
            else QueryAnswer.FAILED
        )
        return QueryOutcome(payment.pk, before, before, answer, result.result_desc)
    return _apply_result(payment, result)


def _apply_result(payment: Payment, result: StkQueryResult) -> QueryOutcome:
    """Apply Daraja's answer through the owners (``payment`` was read before
    the query; only its fixed ids are used before the owner locks it)."""
    if result.result_code == SUCCESS:
        change = payment_record_success(
            payment_id=payment.pk, report=_query_success_report(payment, result)
        )
    else:
        change = payment_record_failure(
            payment_id=payment.pk,
            result_code=result.result_code or "",
            result_desc=result.result_desc,
            source="stk_query",
        )
    _touch(change.payment)
    answer = (
        QueryAnswer(change.payment.status) if change.changed else QueryAnswer.UNCHANGED
    )
    return QueryOutcome(
        payment.pk, change.before, change.payment.status, answer, result.result_desc
    )


def _query_success_report(payment: Payment, result: StkQueryResult) -> SuccessReport:
    """The query carries no receipt; use a stored success callback if any."""
    stored = latest_success_callback(
        payment_id=payment.pk, checkout_request_id=payment.checkout_request_id
    )
    if stored is not None:
        # Its event id: the ledger's sighting of that callback, not a new one.
        callback, event_id = stored
        return success_report_from_callback(
            callback, source="stk_query", event_id=event_id
        )
    return SuccessReport(
        source="stk_query", result_code=SUCCESS, result_desc=result.result_desc
    )


def _past_lifetime(payment: Payment) -> bool:
    started = payment.accepted_at or payment.created_at
    lifetime = timedelta(seconds=settings.MPESA_STK_LIFETIME_SECONDS)
    return timezone.now() - started > lifetime


def _still_unresolved(payment: Payment, detail: str, dry_run: bool) -> QueryOutcome:
    """Daraja has no final answer: expire the payment once past its lifetime."""
    if not _past_lifetime(payment) or payment.status not in Payment.OPEN_STATUSES:
        _touch(payment, dry_run=dry_run)
        return QueryOutcome(
            payment.pk,
            payment.status,
            payment.status,
            QueryAnswer.STILL_PENDING,
            detail,
        )
    if dry_run:
        return QueryOutcome(
            payment.pk, payment.status, payment.status, QueryAnswer.EXPIRED, detail
        )
    change = payment_expire(
        payment_id=payment.pk,
        reason=f"no result within the STK lifetime ({detail})",
    )
    _touch(change.payment)
    answer = QueryAnswer.EXPIRED if change.changed else QueryAnswer.UNCHANGED
    return QueryOutcome(
        payment.pk, change.before, change.payment.status, answer, detail
    )


def _settle_without_checkout_id(payment: Payment, *, dry_run: bool) -> QueryOutcome:
    """An ``initiated`` payment Daraja never acknowledged cannot be queried.

    Its push may have reached the phone and been paid (a read time-out), and
    with no CheckoutRequestID nothing can tell us. Past its lifetime it goes
    to review, never to ``expired``: staff check the M-Pesa statement. The
    reason says whether callbacks we could not match arrived meanwhile.
    """
    before = payment.status
    adopted = None if dry_run else _adopt_unmatched(payment, before=before)
    if adopted is not None:
        return adopted
    if payment.status not in Payment.OPEN_STATUSES or not _past_lifetime(payment):
        return QueryOutcome(
            payment.pk,
            before,
            before,
            QueryAnswer.STILL_PENDING,
            "not acknowledged yet",
        )
    unmatched = PaymentEvent.objects.filter(
        kind=PaymentEvent.Kind.CALLBACK,
        payment__isnull=True,
        created_at__gte=payment.created_at,
    ).count()
    reason = (
        "push outcome unknown (no CheckoutRequestID); money may have moved: "
        f"check the M-Pesa statement ({unmatched} unmatched callbacks since)"
    )
    if dry_run:
        return QueryOutcome(
            payment.pk, before, before, QueryAnswer.NEEDS_REVIEW, reason
        )
    change = payment_send_to_review(
        payment_id=payment.pk, code=Payment.ReviewCode.OUTCOME_UNKNOWN, reason=reason
    )
    # Now of unknown outcome even without the push's note (e.g. a crash).
    adopted = _adopt_unmatched(change.payment, before=before)
    if adopted is not None:
        return adopted
    if not change.changed:
        return QueryOutcome(
            payment.pk, before, change.payment.status, QueryAnswer.UNCHANGED
        )
    return QueryOutcome(
        payment.pk, before, change.payment.status, QueryAnswer.NEEDS_REVIEW, reason
    )


def _adopt_unmatched(payment: Payment, *, before: str) -> QueryOutcome | None:
    """The outcome when the payment took an unmatched callback's money
    (``payments.services.unmatched``), else None."""
    if not payment_adopt_unmatched_receipt(payment_id=payment.pk):
        return None
    payment.refresh_from_db()
    return QueryOutcome(
        payment.pk,
        before,
        payment.status,
        QueryAnswer(payment.status),
        "matched an unmatched callback by phone, amount and time",
    )


def _touch(payment: Payment, *, dry_run: bool = False) -> None:
    if dry_run:
        return
    now = timezone.now()
    update_rows(Payment, {"id": payment.pk}, {"last_queried_at": now})
    payment.last_queried_at = now
