"""Transaction Status: asking M-Pesa what became of a refund's request or
of any receipt, and applying its answer.

``status_check_send`` commits the ``TransactionStatusCheck`` row first
(with its own ``originator_conversation_id``), then sends one query (no
transaction open), storing the exchange raw. The answer comes to the
ResultURL (``async_results``) and ``status_check_apply_result`` applies it
once: the check becomes ``answered`` with the parsed fields; for a refund,
a completed transaction with its own receipt proves the money went back
(``refund_apply_status_answer``), anything else is only noted (the refund
stays ``unknown``: never failed on a status answer); for staff's "Verify
with M-Pesa", money paid into our shortcode that the ledger never heard of
is recorded as unallocated (``status_answers.status_record_unknown_money``).
"""

import logging
import re

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from payments.daraja.exceptions import (
    DarajaError,
    DarajaRejected,
)
from payments.daraja.result_fields import transaction_status_fields
from payments.daraja.types import AsyncResult
from payments.exceptions import StatusCheckRefused
from payments.models import PaymentEvent, Refund, TransactionStatusCheck
from payments.services import daraja_client
from payments.services.events import event_record, exchange_recorder
from payments.services.refund_results import Disposition, refund_apply_status_answer
from payments.services.status_answers import (
    answer_json,
    refund_proof,
    status_record_unknown_money,
)

logger = logging.getLogger(__name__)
State = TransactionStatusCheck.State
_RECEIPT = re.compile(r"[A-Z0-9]{1,20}")
REMARKS = "Haki Yetu status check"


def status_check_send(
    *,
    transaction_id: str | None = None,
    refund_id: int | None = None,
    actor: AbstractBaseUser | None = None,
) -> TransactionStatusCheck:
    """Ask M-Pesa about receipt ``transaction_id`` or refund ``refund_id``.

    A refund is asked about by its own receipt when known, else by the
    conversation id of its request (never by the receipt it paid back,
    whose status says nothing of the refund). Side effects: the check row
    (committed before sending), the exchange stored raw, the acceptance's
    ConversationID; Daraja's refusal leaves the check ``failed``. Raises
    ``StatusCheckRefused`` (nothing written) and ``ImproperlyConfigured``.
    """
    receipt, original = _what_to_ask(transaction_id, refund_id)
    client = daraja_client.daraja()
    check = TransactionStatusCheck.objects.create(
        transaction_id=receipt,
        original_conversation_id=original,
        refund_id=refund_id,
        requested_by=actor,
    )
    if refund_id is not None:
        Refund.objects.filter(pk=refund_id).update(status_checked_at=timezone.now())
    try:
        accepted = client.transaction_status(
            transaction_id=receipt or None,
            original_conversation_id=original or None,
            originator_conversation_id=str(check.originator_conversation_id),
            remarks=REMARKS,
            on_exchange=exchange_recorder(
                None, status_check_id=check.pk, refund_id=refund_id
            ),
        )
    except DarajaError as exc:
        return _not_accepted(check, exc)
    return _accepted(check.pk, accepted.conversation_id)


def status_check_apply_result(
    *, check_id: int, result: AsyncResult, event_id: int
) -> str:
    """Apply M-Pesa's answer (stored raw as ``event_id``) to its check once;
    returns a ``refund_results.Disposition``. A queue time-out leaves the
    check ``timed_out`` (a later answer may still come)."""
    with transaction.atomic():
        check = TransactionStatusCheck.objects.select_for_update().get(pk=check_id)
        if check.state == State.ANSWERED:
            _note(check, f"repeated answer (event {event_id}) ignored")
            return Disposition.DUPLICATE
        if result.is_timeout:
            _save(check, state=State.TIMED_OUT, result_description=result.result_desc)
            return Disposition.TIMEOUT
        fields = transaction_status_fields(result) if result.is_success else None
        answer = answer_json(result, fields)
        if fields is not None and check.refund_id is None:
            answer["ledger"] = status_record_unknown_money(
                fields=fields, event_id=event_id
            )
        _save(
            check,
            state=State.ANSWERED,
            result_code=result.result_code[:16],
            result_description=result.result_desc,
            answer=answer,
            answered_at=timezone.now(),
        )
        if check.refund_id is not None:
            _apply_to_refund(check, fields, result, event_id)
    return Disposition.APPLIED


def _apply_to_refund(check, fields, result: AsyncResult, event_id: int) -> None:
    refund = Refund.objects.select_related("receipt").get(pk=check.refund_id)
    proof, note = refund_proof(refund, fields, result)
    refund_apply_status_answer(
        refund_id=refund.pk, proof=proof, note=note, event_id=event_id
    )


def _what_to_ask(transaction_id: str | None, refund_id: int | None) -> tuple[str, str]:
    if refund_id is not None:
        refund = Refund.objects.filter(pk=refund_id).first()
        if refund is None:
            raise StatusCheckRefused("No such refund.", field="refund_id")
        if refund.refund_receipt_number:
            return refund.refund_receipt_number, ""
        return "", (
            refund.daraja_originator_conversation_id
            or refund.conversation_id
            or str(refund.originator_conversation_id)
        )
    receipt = str(transaction_id or "").strip().upper()
    if not _RECEIPT.fullmatch(receipt):
        raise StatusCheckRefused(
            "Give an M-Pesa receipt number (letters and digits, up to 20).",
            field="transaction_id",
        )
    return receipt, ""


def _not_accepted(
    check: TransactionStatusCheck, exc: DarajaError
) -> TransactionStatusCheck:
    code = exc.error_code if isinstance(exc, DarajaRejected) else ""
    with transaction.atomic():
        check = TransactionStatusCheck.objects.select_for_update().get(pk=check.pk)
        if check.state == State.SENT:
            _save(
                check,
                state=State.FAILED,
                result_code=(code or "")[:16],
                result_description=f"not accepted: {exc}"[:1000],
            )
    logger.warning("status check %s not accepted: %s", check.pk, exc)
    return check


def _accepted(check_id: int, conversation_id: str) -> TransactionStatusCheck:
    """Remember the acceptance's ConversationID (its answer may be matched
    by it); an answer that came first is kept."""
    with transaction.atomic():
        check = TransactionStatusCheck.objects.select_for_update().get(pk=check_id)
        if conversation_id and not check.conversation_id:
            _save(check, conversation_id=conversation_id[:64])
    return check


def _save(check: TransactionStatusCheck, **fields: object) -> None:
    for name, value in fields.items():
        setattr(check, name, value)
    check.save(update_fields=[*fields, "updated_at"])


def _note(check: TransactionStatusCheck, reason: str) -> None:
    event_record(
        kind=PaymentEvent.Kind.NOTE,
        status_check_id=check.pk,
        refund_id=check.refund_id,
        reason=reason,
    )
