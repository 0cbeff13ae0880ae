"""Verifying a stored callback with an STK query (MPESA_VERIFY_CALLBACKS).

Daraja's callbacks are unsigned (../shared/daraja.md section 5). With
verification on, no callback moves a payment by itself: the query's answer
decides, success or failure alike.
"""

import logging
from dataclasses import replace

from django.db import transaction

from payments.daraja.callbacks import StkCallback, parse_stk_callback
from payments.daraja.client import DarajaClient
from payments.daraja.exceptions import DarajaRejected, DarajaUnavailable
from payments.daraja.types import StkQueryResult
from payments.models import Payment, PaymentEvent
from payments.result_codes import SUCCESS
from payments.services import daraja_client
from payments.services.events import (
    event_record,
    event_record_note,
    exchange_recorder,
)
from payments.services.reports import SuccessReport, success_report_from_callback
from payments.services.settlement import (
    payment_record_failure,
    payment_record_success,
)
from payments.services.transitions import PaymentChange, payment_send_to_review
from payments.services.unmatched import payment_match_unknown_callback

logger = logging.getLogger(__name__)


def payment_verify_callback(
    *, event: PaymentEvent, client: DarajaClient | None = None
) -> PaymentChange | None:
    """Settle a stored callback (success or failure) as an STK query says.

    Daraja's answer decides; the callback only adds what the answer cannot
    carry (receipt, amount, time), and only when it agrees with the answer.
    A callback the answer contradicts is flagged in the payment's log: a
    contradicted success sends an open payment to review, a contradicted
    failure does not fail it. Raises ``DarajaUnavailable`` while Daraja
    cannot answer or is still processing (the task retries).
    """
    callback = parse_stk_callback(event.request_body)
    if event.payment_id is None:
        _verify_unknown(event, callback, client)
        return None
    result = (client or daraja_client.daraja()).stk_query(
        checkout_request_id=callback.checkout_request_id,
        on_exchange=exchange_recorder(event.payment_id),
    )
    if result.is_processing:
        raise DarajaUnavailable("query: the transaction is still being processed")
    with transaction.atomic():  # the note and the settlement, together
        return _settle_verified(event, callback, result)


def _verify_unknown(
    event: PaymentEvent, callback: StkCallback, client: DarajaClient | None
) -> None:
    """A callback no payment had when it came. A payment that has learned
    its CheckoutRequestID since is settled by its own query (the sweep
    finds this callback); a failure is kept as it is; a success Daraja's
    answer confirms is recorded by ``payments.services.unmatched``
    (matched, or unallocated money), a contradicted one is only logged.
    Raises ``DarajaUnavailable`` while Daraja cannot answer."""
    checkout_id = callback.checkout_request_id
    if not callback.is_success or _payment_knows(checkout_id):
        return
    try:
        result = (client or daraja_client.daraja()).stk_query(
            checkout_request_id=checkout_id, on_exchange=exchange_recorder(None)
        )
    except DarajaRejected as exc:  # e.g. "does not exist": not Daraja's push
        _note_unverified(event, f"query refused: {exc.error_code}")
        return
    if result.is_processing:
        raise DarajaUnavailable("query: the transaction is still being processed")
    if result.result_code != SUCCESS or _ids_differ(callback, result):
        _note_unverified(event, f"query answered {result.result_code}")
        return
    payment_match_unknown_callback(
        callback=callback, event_id=event.pk, source="verified callback"
    )


def _payment_knows(checkout_request_id: str) -> bool:
    return Payment.objects.filter(checkout_request_id=checkout_request_id).exists()


def _ids_differ(callback: StkCallback, result: StkQueryResult) -> bool:
    ours, theirs = callback.merchant_request_id, result.merchant_request_id
    return bool(ours and theirs and ours != theirs)


def _note_unverified(event: PaymentEvent, detail: str) -> None:
    logger.warning(
        "success callback event %s (no payment) not confirmed by Daraja: %s",
        event.pk,
        detail,
    )
    event_record(
        kind=PaymentEvent.Kind.NOTE,
        reason=f"success callback event {event.pk} (no payment) not confirmed "
        f"by Daraja ({detail}); its money is not recorded",
        checkout_request_id=event.checkout_request_id,
    )


def _settle_verified(
    event: PaymentEvent, callback: StkCallback, result: StkQueryResult
) -> PaymentChange:
    # MerchantRequestID is fixed once the push was accepted: no lock needed
    # to compare it; every status decision is the owners', under the lock.
    payment = Payment.objects.get(pk=event.payment_id)
    contradiction = _contradiction(payment, callback, result)
    if contradiction:
        _flag_contradicted_callback(payment, event, contradiction)
    if result.result_code == SUCCESS:
        return payment_record_success(
            payment_id=payment.pk,
            report=_verified_success(callback, result, contradiction, event.pk),
        )
    if callback.is_success:
        change = payment_send_to_review(
            payment_id=payment.pk,
            code=Payment.ReviewCode.CONTRADICTED,
            reason=f"success callback contradicted by query {result.result_code}",
        )
        if change.before in Payment.OPEN_STATUSES:
            return change
    return payment_record_failure(
        payment_id=payment.pk,
        result_code=result.result_code or "",
        result_desc=result.result_desc,
        source="stk_query (verifying a callback)",
    )


def _verified_success(
    callback: StkCallback, result: StkQueryResult, contradiction: str, event_id: int
) -> SuccessReport:
    """Daraja's answer says paid: take the callback's details only when the
    callback agrees with the answer."""
    if contradiction:
        return SuccessReport(
            source="stk_query (callback contradicted)",
            result_code=SUCCESS,
            result_desc=result.result_desc,
        )
    report = success_report_from_callback(
        callback, source="verified callback", event_id=event_id
    )
    return replace(report, result_desc=result.result_desc or report.result_desc)


def _contradiction(
    payment: Payment, callback: StkCallback, result: StkQueryResult
) -> str:
    """What in the callback Daraja's answer (or our push) contradicts."""
    problems = []
    if callback.result_code != (result.result_code or ""):
        problems.append(
            f"callback says result {callback.result_code[:32]}, Daraja's answer "
            f"says {result.result_code}"
        )
    for name, theirs in (
        ("MerchantRequestID", result.merchant_request_id),
        ("MerchantRequestID of our push", payment.merchant_request_id),
    ):
        ours = callback.merchant_request_id
        if theirs and ours and ours != theirs:
            problems.append(f"callback's MerchantRequestID differs from the {name}")
            break
    return "; ".join(problems)


def _flag_contradicted_callback(
    payment: Payment, event: PaymentEvent, contradiction: str
) -> None:
    logger.warning(
        "callback event %s for payment %s contradicted by Daraja: %s",
        event.pk,
        payment.pk,
        contradiction,
        extra={"payment_id": payment.pk},
    )
    event_record_note(
        payment,
        f"callback event {event.pk} contradicted by Daraja's answer: {contradiction}",
    )
