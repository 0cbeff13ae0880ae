"""Transaction Status: sending a check (row first, exchange stored raw),
and applying M-Pesa's answer to a refund or to a receipt staff verify."""

import pytest

from payments.daraja.exceptions import (
    DarajaOutcomeUnknown,
    DarajaRejected,
    DarajaUnavailable,
)
from payments.exceptions import StatusCheckRefused
from payments.models import (
    MpesaReceipt,
    MpesaReceiptSighting,
    PaymentEvent,
    Refund,
    TransactionStatusCheck,
)
from payments.services.async_results import result_intake
from payments.services.refund_results import Disposition
from payments.services.status_checks import status_check_send
from payments.tests.ledger_support import paybill_receipt
from payments.tests.result_support import (
    SHORT_CODE,
    as_bytes,
    status_result,
    submitted_refund,
    timeout_notice,
)

pytestmark = pytest.mark.django_db
State = TransactionStatusCheck.State
Status = Refund.Status


@pytest.fixture(autouse=True)
def _shortcode(settings):
    settings.MPESA_BUSINESS_SHORT_CODE = SHORT_CODE


def _intake(body: dict, *, timeout: bool = False):
    return result_intake(
        raw_body=as_bytes(body), source_ip=None, headers={}, timeout=timeout
    )


def _unknown_refund(fake_daraja) -> Refund:
    fake_daraja.reversal_result = DarajaOutcomeUnknown(operation="reversal")
    refund = submitted_refund(fake_daraja)
    assert refund.status == Status.UNKNOWN
    return refund


def test_status_check_send_asks_by_the_refund_request_id(fake_daraja):
    # given a refund whose submit timed out (no ids from Daraja)
    refund = _unknown_refund(fake_daraja)

    # when a status check is sent for it
    check = status_check_send(refund_id=refund.pk)

    # then M-Pesa is asked by our OriginatorConversationID, never by the
    # receipt that was paid back
    sent = fake_daraja.status_queries[0]
    assert sent["original_conversation_id"] == str(refund.originator_conversation_id)
    assert sent["transaction_id"] is None
    assert sent["originator_conversation_id"] == str(check.originator_conversation_id)
    assert (check.state, check.refund_id) == (State.SENT, refund.pk)
    assert check.conversation_id.startswith("AG_")


def test_status_check_send_stores_the_exchange_with_its_links(fake_daraja):
    # given a refund of unknown outcome
    refund = _unknown_refund(fake_daraja)

    # when a status check is sent
    check = status_check_send(refund_id=refund.pk)

    # then the exchange is stored raw, linked to the check and the refund
    exchange = PaymentEvent.objects.get(status_check=check, kind="daraja_exchange")
    assert (exchange.operation, exchange.refund_id) == ("transaction_status", refund.pk)
    refund.refresh_from_db()
    assert refund.status_checked_at is not None


def test_status_check_send_refused_by_daraja_fails_the_check(fake_daraja):
    # given Daraja refuses the query
    fake_daraja.status_result = DarajaRejected("400.003.02", "Bad Request")

    # when staff verify a receipt
    check = status_check_send(transaction_id="tlk7abc123")

    # then the check is failed, with the code; the receipt asked is kept
    assert (check.state, check.result_code, check.transaction_id) == (
        State.FAILED,
        "400.003.02",
        "TLK7ABC123",
    )


def test_status_check_send_unavailable_fails_the_check(fake_daraja):
    # given Daraja cannot be reached
    fake_daraja.status_result = DarajaUnavailable("down")

    # when staff verify a receipt
    check = status_check_send(transaction_id="TLK7ABC123")

    # then the row is kept, failed
    assert check.state == State.FAILED


@pytest.mark.parametrize("value", ["", "  ", "TLK-7ABC", "A" * 21, None])
def test_status_check_send_refuses_what_is_no_receipt(fake_daraja, value):
    # when staff ask about something that is not a receipt number
    with pytest.raises(StatusCheckRefused):
        status_check_send(transaction_id=value)

    # then nothing was written or sent
    assert not TransactionStatusCheck.objects.exists()
    assert fake_daraja.status_queries == []


def test_status_check_completed_answer_completes_the_refund(fake_daraja):
    # given a status check of a refund of unknown outcome
    refund = _unknown_refund(fake_daraja)
    check = status_check_send(refund_id=refund.pk)

    # when M-Pesa answers: completed, under the reversal's own receipt
    outcome = _intake(status_result(check, receipt="RLK7OUT009"))

    # then the refund completed with that receipt, money out in the ledger
    refund.refresh_from_db()
    check.refresh_from_db()
    assert outcome.status_check_id == check.pk
    assert (refund.status, refund.refund_receipt_number) == (
        Status.COMPLETED,
        "RLK7OUT009",
    )
    sighting = refund.outgoing_receipt.sightings.get()
    assert sighting.source == MpesaReceiptSighting.Source.TRANSACTION_STATUS
    assert check.state == State.ANSWERED
    assert check.answer["transaction_status"] == "Completed"
    assert check.answer["amount"] == 3000
    assert check.answer["finalised_at"].startswith("2026-12-02T10:15:02")


def test_status_check_not_found_leaves_the_refund_unknown(fake_daraja):
    # given a status check of a refund of unknown outcome
    refund = _unknown_refund(fake_daraja)
    check = status_check_send(refund_id=refund.pk)

    # when M-Pesa finds nothing
    _intake(status_result(check, code="R000002"))

    # then the refund is still unknown (never failed on a status answer)
    refund.refresh_from_db()
    check.refresh_from_db()
    assert refund.status == Status.UNKNOWN
    assert check.state == State.ANSWERED
    assert PaymentEvent.objects.filter(
        refund=refund, kind="note", reason__contains="R000002"
    ).exists()


def test_status_check_of_the_paid_back_receipt_is_no_proof(fake_daraja):
    # given a status check of a refund of unknown outcome
    refund = _unknown_refund(fake_daraja)
    check = status_check_send(refund_id=refund.pk)

    # when the answer is about the original receipt, "Completed"
    _intake(status_result(check, receipt=refund.receipt.receipt_number))

    # then it proves nothing about the refund
    refund.refresh_from_db()
    assert refund.status == Status.UNKNOWN


def test_status_check_naming_other_money_in_is_no_proof(fake_daraja):
    # given a status check of a refund, and another receipt of money in
    refund = _unknown_refund(fake_daraja)
    paybill_receipt("TLK7OTHER1")
    check = status_check_send(refund_id=refund.pk)

    # when M-Pesa's answer names that receipt
    _intake(status_result(check, receipt="TLK7OTHER1"))

    # then it proves nothing about the refund; that receipt stays money in
    refund.refresh_from_db()
    assert refund.status == Status.UNKNOWN
    assert MpesaReceipt.objects.get(receipt_number="TLK7OTHER1").direction == "in"


def test_status_check_answer_for_another_amount_is_no_proof(fake_daraja):
    # given a status check of a KES 3,000 refund
    refund = _unknown_refund(fake_daraja)
    check = status_check_send(refund_id=refund.pk)

    # when M-Pesa says KES 10 completed
    _intake(status_result(check, amount=10.0))

    # then the refund stays unknown
    refund.refresh_from_db()
    assert refund.status == Status.UNKNOWN


def test_status_check_repeated_answer_is_a_noop(fake_daraja):
    # given an answered check
    refund = _unknown_refund(fake_daraja)
    check = status_check_send(refund_id=refund.pk)
    _intake(status_result(check))

    # when the same answer comes again
    outcome = _intake(status_result(check))

    # then nothing more happens
    assert outcome.disposition == Disposition.DUPLICATE
    assert MpesaReceipt.objects.filter(direction="out").count() == 1


def test_status_check_queue_timeout_marks_the_check(fake_daraja):
    # given a sent check
    check = status_check_send(transaction_id="TLK7ABC123")

    # when its queue times out
    _intake(
        timeout_notice(str(check.originator_conversation_id), check.conversation_id),
        timeout=True,
    )

    # then it is timed out
    check.refresh_from_db()
    assert check.state == State.TIMED_OUT
