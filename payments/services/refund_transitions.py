"""The refund's transition owner: the one writer of ``Refund.status``.

Callers (``refunds.py``, ``refund_submission.py``, ``refund_results.py``)
open ``transaction.atomic()``, lock with ``refund_lock`` and move with
``refund_move``, which checks ``Refund.ALLOWED_TRANSITIONS``, saves the
fields that belong to the change and appends one status event. Lock order:
payment, booking, receipt, then refund.
"""

import logging

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from payments.exceptions import InvalidRefundTransition, RefundNotFound
from payments.models import PaymentEvent, Refund
from payments.services.events import event_record
from payments.services.scheduling import schedule_refund_completed_notice

logger = logging.getLogger(__name__)


def refund_lock(*, refund_id: int) -> Refund:
    """Lock and return the refund (inside ``atomic()``). Raises
    ``RefundNotFound``."""
    try:
        return Refund.objects.select_for_update().get(pk=refund_id)
    except Refund.DoesNotExist as exc:
        raise RefundNotFound() from exc


def refund_move(
    refund: Refund,
    *,
    to: str,
    reason: str,
    actor: AbstractBaseUser | None = None,
    **fields: object,
) -> bool:
    """Move a locked ``refund`` to ``to``, saving ``fields`` with it.

    Returns False (and changes nothing) when it is already at ``to``;
    raises ``InvalidRefundTransition`` when the table forbids the move.
    Side effects: UPDATE of the refund, one status-change event.
    """
    if refund.status == to:
        logger.info("refund %s already %s", refund.pk, to)
        return False
    if not Refund.can_transition(refund.status, to):
        raise InvalidRefundTransition(
            f"A {refund.status} refund cannot become {to}.",
            from_status=refund.status,
            to_status=to,
        )
    from_status = refund.status
    refund.status = to
    for name, value in fields.items():
        setattr(refund, name, value)
    refund.save(update_fields=["status", *fields, "updated_at"])
    event_record(
        kind=PaymentEvent.Kind.STATUS_CHANGE,
        refund_id=refund.pk,
        from_status=from_status,
        to_status=to,
        reason=reason,
        actor=actor,
    )
    logger.info(
        "refund %s: %s -> %s (%s)",
        refund.pk,
        from_status,
        to,
        reason,
        extra={"refund_id": refund.pk, "receipt_id": refund.receipt_id},
    )
    if to == Refund.Status.COMPLETED:
        schedule_refund_completed_notice(refund_id=refund.pk)
    return True


def refund_record_acceptance(
    *, refund_id: int, conversation_id: str, originator_conversation_id: str
) -> Refund:
    """Daraja accepted the request: remember its ids (the result is matched
    by them). The status stays as it is: a result that came first may
    already have settled the refund."""
    with transaction.atomic():
        refund = refund_lock(refund_id=refund_id)
        fields = {
            "conversation_id": conversation_id[:64],
            "daraja_originator_conversation_id": originator_conversation_id[:64],
        }
        changed = [
            name
            for name, value in fields.items()
            if value and not getattr(refund, name)
        ]
        for name in changed:
            setattr(refund, name, fields[name])
        if changed:
            refund.save(update_fields=[*changed, "updated_at"])
    return refund
