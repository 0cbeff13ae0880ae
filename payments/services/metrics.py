"""Counting what the payments' owners did, once their transaction commits
(a rolled-back move counts nothing)."""

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone

from core.metrics import count_callback, count_payment_status
from payments.models import Payment

Status = Payment.Status
OPEN = frozenset({Status.INITIATED, Status.PENDING})
FINAL = frozenset({Status.COMPLETED, Status.FAILED, Status.EXPIRED})
T = TypeVar("T")


def count_status_after_commit(payment: Payment, *, from_status: str) -> None:
    """Count ``payment`` reaching its status after commit; a first move from
    open to final also records how long it took to settle since Daraja
    accepted the push."""
    settle_seconds = None
    if from_status in OPEN and payment.status in FINAL and payment.accepted_at:
        settle_seconds = (timezone.now() - payment.accepted_at).total_seconds()
    status = str(payment.status)
    transaction.on_commit(
        lambda: count_payment_status(status=status, settle_seconds=settle_seconds)
    )


def counted_intake(
    kind: str | Callable[[dict], str],
    *,
    disposition: Callable[[Any], str],
    malformed: type[Exception],
) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Count each call of a callback intake (keyword-only) by ``kind`` (or
    ``kind(kwargs)``) and ``disposition(result)``; a body the intake
    refuses as ``malformed`` counts as ``malformed``. Spooled requests
    count once, as ``spooled``: their replay does not pass here."""

    def decorate(intake: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(intake)
        def counted(**kwargs: Any) -> T:
            name = kind(kwargs) if callable(kind) else kind
            try:
                result = intake(**kwargs)
            except malformed:
                count_callback(kind=name, disposition="malformed")
                raise
            count_callback(kind=name, disposition=disposition(result))
            return result

        return counted

    return decorate


def c2b_validation_disposition(answer: dict[str, str]) -> str:
    """accepted or rejected, from the answer we gave."""
    return "accepted" if str(answer.get("ResultCode")) == "0" else "rejected"


def c2b_confirmation_disposition(outcome: Any) -> str:
    """spooled, failed_to_apply, duplicate, not_recorded, or the ledger's
    allocation (allocated, unallocated)."""
    if outcome.event_id is None:
        return "spooled"
    allocation = outcome.allocation
    if allocation is None:
        return "failed_to_apply"
    if allocation.repeated:
        return "duplicate"
    if not allocation.recorded:
        return "not_recorded"
    return allocation.allocation or "recorded"
