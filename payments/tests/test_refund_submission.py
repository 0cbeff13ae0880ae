"""Sending an approved refund once (``refund_submit``), with Daraja
replaced at its seam by the fake client: what each kind of answer leaves."""

import pytest

from payments.daraja.exceptions import (
    DarajaAuthError,
    DarajaOutcomeUnknown,
    DarajaRejected,
    DarajaUnavailable,
)
from payments.models import PaymentEvent, Refund
from payments.services.refund_submission import refund_submit
from payments.tests.fakes import accepted_async
from payments.tests.refund_support import b2c_settings, cancelled_paid_booking_receipt
from payments.tests.result_support import approved_refund

pytestmark = pytest.mark.django_db
Status = Refund.Status


def test_refund_submit_sends_one_reversal_with_our_id(fake_daraja):
    # given an approved whole-receipt refund
    refund = approved_refund()

    # when it is submitted twice
    refund_submit(refund_id=refund.pk)
    again = refund_submit(refund_id=refund.pk)

    # then one reversal went, of the receipt, under the refund's own id
    assert len(fake_daraja.reversals) == 1
    sent = fake_daraja.reversals[0]
    assert sent["transaction_id"] == refund.receipt.receipt_number
    assert sent["amount"] == 3000
    assert sent["originator_conversation_id"] == str(refund.originator_conversation_id)
    assert again.status == Status.SUBMITTED


def test_refund_submit_records_the_acceptance_ids(fake_daraja):
    # given Daraja acknowledges with its ids
    fake_daraja.reversal_result = accepted_async("AG-ORIG-9", "AG_20261202_ACK9")
    refund = approved_refund()

    # when it is submitted
    refund = refund_submit(refund_id=refund.pk)

    # then the ids are kept and the exchange is stored with the refund
    assert (refund.conversation_id, refund.daraja_originator_conversation_id) == (
        "AG_20261202_ACK9",
        "AG-ORIG-9",
    )
    assert refund.submitted_at is not None
    exchange = PaymentEvent.objects.get(refund=refund, kind="daraja_exchange")
    assert exchange.operation == "reversal"


def test_refund_submit_partial_goes_by_b2c(fake_daraja, settings):
    # given B2C configured and part of a receipt refunded
    b2c_settings(settings)
    refund = approved_refund(cancelled_paid_booking_receipt(), amount=500)

    # when it is submitted
    refund_submit(refund_id=refund.pk)

    # then a B2C payment went to the payer's number, no reversal
    assert fake_daraja.reversals == []
    assert fake_daraja.b2c_payments[0]["amount"] == 500
    assert fake_daraja.b2c_payments[0]["phone_number"] == refund.recipient_phone


def test_refund_submit_read_timeout_leaves_unknown(fake_daraja):
    # given the request goes and no answer comes back
    fake_daraja.reversal_result = DarajaOutcomeUnknown(operation="reversal")
    refund = approved_refund()

    # when it is submitted
    refund = refund_submit(refund_id=refund.pk)

    # then its outcome is unknown, never failed
    assert refund.status == Status.UNKNOWN


def test_refund_submit_refusal_fails(fake_daraja):
    # given Daraja refuses the request with an error code
    fake_daraja.reversal_result = DarajaRejected(
        "400.002.02", "Bad Request - Invalid TransactionID", http_status=400
    )
    refund = approved_refund()

    # when it is submitted
    refund = refund_submit(refund_id=refund.pk)

    # then it failed, with Daraja's code
    assert (refund.status, refund.result_code) == (Status.FAILED, "400.002.02")


def test_refund_submit_duplicate_originator_is_unknown_not_failed(fake_daraja):
    # given Daraja has seen this OriginatorConversationID (an earlier send)
    fake_daraja.reversal_result = DarajaRejected(
        "500.002.1001", "Duplicate OriginatorConversationID", http_status=500
    )
    refund = approved_refund()

    # when it is submitted
    refund = refund_submit(refund_id=refund.pk)

    # then the earlier request's outcome stands: unknown
    assert refund.status == Status.UNKNOWN


def test_refund_submit_server_error_with_code_is_unknown(fake_daraja):
    # given a 5xx with an error code, after Daraja read the request
    fake_daraja.reversal_result = DarajaRejected(
        "500.002.1001", "Internal Server Error", http_status=500
    )
    refund = approved_refund()

    # when it is submitted
    refund = refund_submit(refund_id=refund.pk)

    # then nobody assumes it failed
    assert refund.status == Status.UNKNOWN


@pytest.mark.parametrize(
    "error",
    [
        DarajaUnavailable("connection refused"),
        DarajaUnavailable("too many", http_status=429),
        DarajaUnavailable("spike", http_status=500, error_code="500.003.02"),
        DarajaAuthError("401", "Invalid credentials", http_status=401),
    ],
)
def test_refund_submit_not_sent_goes_back_to_approved(fake_daraja, error):
    # given Daraja never took the request
    fake_daraja.reversal_result = error
    refund = approved_refund()

    # when it is submitted
    refund = refund_submit(refund_id=refund.pk)

    # then it waits, approved, for the sweep to send it again
    assert refund.status == Status.APPROVED


@pytest.mark.parametrize(
    "error",
    [
        DarajaUnavailable("busy", http_status=503),
        DarajaUnavailable("internal", http_status=500, error_code="500.003.1001"),
    ],
)
def test_refund_submit_answers_that_prove_nothing_leave_it_unknown(fake_daraja, error):
    """A gateway's 503 or Daraja's "internal server error" may come after
    M-Pesa got the request: never resent blindly (review finding F1)."""
    fake_daraja.reversal_result = error
    refund = approved_refund()

    refund = refund_submit(refund_id=refund.pk)

    assert refund.status == Status.UNKNOWN
    assert len(fake_daraja.reversals) == 1


def test_refund_submit_gateway_failure_after_sending_is_unknown(fake_daraja):
    # given a 502 without Daraja's error envelope (it may have been read)
    fake_daraja.reversal_result = DarajaUnavailable("bad gateway", http_status=502)
    refund = approved_refund()

    # when it is submitted
    refund = refund_submit(refund_id=refund.pk)

    # then its outcome is unknown
    assert refund.status == Status.UNKNOWN


def test_refund_submit_ignores_a_refund_not_approved(fake_daraja):
    # given a refund only requested
    refund = approved_refund()
    Refund.objects.filter(pk=refund.pk).update(status=Status.REQUESTED)

    # when it is submitted
    refund = refund_submit(refund_id=refund.pk)

    # then nothing went
    assert fake_daraja.reversals == []
    assert refund.status == Status.REQUESTED
