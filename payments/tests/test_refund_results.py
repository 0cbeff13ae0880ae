"""M-Pesa's results for refunds, through the real parser and router
(``async_results.result_intake``) into ``refund_results``: applied once,
the ledger's money out, the receipt and booking refunded."""

import pytest

from bookings.models import Booking
from payments.models import MpesaReceipt, MpesaReceiptSighting, PaymentEvent, Refund
from payments.services.async_results import result_intake, results_reroute_unmatched
from payments.services.refund_results import Disposition
from payments.tests.fakes import accepted_async
from payments.tests.refund_support import b2c_settings, cancelled_paid_booking_receipt
from payments.tests.result_support import (
    as_bytes,
    b2c_result,
    reversal_result,
    submitted_refund,
    timeout_notice,
)

pytestmark = pytest.mark.django_db
Status = Refund.Status


def _intake(body: dict, *, timeout: bool = False):
    return result_intake(
        raw_body=as_bytes(body),
        source_ip="196.201.214.200",
        headers={},
        timeout=timeout,
    )


def test_refund_results_whole_reversal_refunds_receipt_and_booking(fake_daraja):
    # given a submitted reversal of a cancelled paid booking's receipt
    refund = submitted_refund(fake_daraja)

    # when M-Pesa's success result arrives
    outcome = _intake(reversal_result(refund))

    # then the refund completed, the receipt and the booking are refunded
    refund.refresh_from_db()
    assert outcome.disposition == Disposition.APPLIED
    assert (refund.status, refund.refund_receipt_number) == (
        Status.COMPLETED,
        "RLK7OUT001",
    )
    assert refund.receipt.allocation == MpesaReceipt.Allocation.REFUNDED
    booking = Booking.objects.get(pk=refund.booking_id)
    assert booking.payment_status == Booking.PaymentStatus.REFUNDED


def test_refund_results_outgoing_receipt_is_money_out_once(fake_daraja):
    # given a completed reversal
    refund = submitted_refund(fake_daraja)
    _intake(reversal_result(refund))

    # when the same result comes again
    outcome = _intake(reversal_result(refund))

    # then one outgoing receipt, direction out, allocated to the booking
    assert outcome.disposition == Disposition.DUPLICATE
    out = MpesaReceipt.objects.get(receipt_number="RLK7OUT001")
    assert (out.direction, out.channel, out.amount, out.booking_id) == (
        MpesaReceipt.Direction.OUT,
        MpesaReceipt.Channel.REVERSAL,
        3000,
        refund.booking_id,
    )
    assert out.sightings.get().source == MpesaReceiptSighting.Source.DARAJA_RESULT
    assert MpesaReceipt.objects.filter(direction="out").count() == 1


def test_refund_results_duplicate_is_stored_but_changes_nothing(fake_daraja):
    # given a completed reversal
    refund = submitted_refund(fake_daraja)
    _intake(reversal_result(refund))
    changes = PaymentEvent.objects.filter(
        refund=refund, kind=PaymentEvent.Kind.STATUS_CHANGE
    ).count()

    # when the result is posted twice more
    _intake(reversal_result(refund))
    _intake(reversal_result(refund, code="R000002"))

    # then all three are stored, and no status changed again
    assert PaymentEvent.objects.filter(refund=refund, kind="result").count() == 3
    assert (
        PaymentEvent.objects.filter(refund=refund, kind="status_change").count()
        == changes
    )
    refund.refresh_from_db()
    assert refund.status == Status.COMPLETED


def test_refund_results_already_reversed_completes_without_a_receipt(fake_daraja):
    # given a submitted reversal
    refund = submitted_refund(fake_daraja)

    # when M-Pesa says R000001, already reversed
    _intake(reversal_result(refund, code="R000001", desc="Already reversed"))

    # then the money went back: completed, the receipt refunded
    refund.refresh_from_db()
    assert (refund.status, refund.result_code) == (Status.COMPLETED, "R000001")
    assert refund.outgoing_receipt_id is None
    assert refund.receipt.allocation == MpesaReceipt.Allocation.REFUNDED


def test_refund_results_unknown_original_fails(fake_daraja):
    # given a submitted reversal
    refund = submitted_refund(fake_daraja)

    # when M-Pesa says R000002
    _intake(reversal_result(refund, code="R000002", desc="Invalid original"))

    # then the refund failed; the receipt keeps its allocation
    refund.refresh_from_db()
    assert (refund.status, refund.result_code) == (Status.FAILED, "R000002")
    assert refund.receipt.allocation == MpesaReceipt.Allocation.ALLOCATED


def test_refund_results_wrong_credential_fails(fake_daraja):
    # given a submitted reversal
    refund = submitted_refund(fake_daraja)

    # when M-Pesa answers 2001 (initiator information invalid)
    _intake(reversal_result(refund, code=2001, desc="The initiator information"))

    # then the refund failed with that code
    refund.refresh_from_db()
    assert (refund.status, refund.result_code) == (Status.FAILED, "2001")


def test_refund_results_queue_timeout_leaves_unknown(fake_daraja):
    # given a submitted reversal
    refund = submitted_refund(fake_daraja)

    # when the queue time-out notice arrives
    outcome = _intake(
        timeout_notice(str(refund.originator_conversation_id)), timeout=True
    )

    # then the outcome is unknown, never failed
    refund.refresh_from_db()
    assert outcome.disposition == Disposition.TIMEOUT
    assert refund.status == Status.UNKNOWN
    assert PaymentEvent.objects.get(refund=refund, kind="queue_timeout")


def test_refund_results_success_after_timeout_completes(fake_daraja):
    # given a reversal whose queue timed out
    refund = submitted_refund(fake_daraja)
    _intake(timeout_notice(str(refund.originator_conversation_id)), timeout=True)

    # when the result arrives after all
    _intake(reversal_result(refund))

    # then it completed
    refund.refresh_from_db()
    assert refund.status == Status.COMPLETED


def test_refund_results_partial_b2c_completes_receipt_not_refunded(
    fake_daraja, settings
):
    # given a B2C refund of part of a receipt
    b2c_settings(settings)
    receipt = cancelled_paid_booking_receipt(amount=3000)
    refund = submitted_refund(fake_daraja, receipt, amount=1000)
    assert refund.method == Refund.Method.B2C
    assert len(fake_daraja.b2c_payments) == 1

    # when its result arrives
    _intake(b2c_result(refund))

    # then the refund completed; the receipt is not refunded as a whole
    refund.refresh_from_db()
    receipt.refresh_from_db()
    assert refund.status == Status.COMPLETED
    assert refund.outgoing_receipt.channel == MpesaReceipt.Channel.B2C
    assert refund.outgoing_receipt.amount == 1000
    assert receipt.allocation == MpesaReceipt.Allocation.ALLOCATED
    booking = Booking.objects.get(pk=refund.booking_id)
    assert booking.payment_status == Booking.PaymentStatus.REFUND_DUE


def test_refund_results_before_acceptance_recorded_matched_by_sweep(fake_daraja):
    # given Daraja answers with its own ids (not echoing ours), and the
    # result arrives before the acceptance was recorded
    fake_daraja.reversal_result = accepted_async("AG-ORIG-1", "AG_20261202_LATE0001")
    refund = submitted_refund(fake_daraja)
    refund.refresh_from_db()
    body = reversal_result(refund)
    body["Result"]["OriginatorConversationID"] = "AG-ORIG-1"
    Refund.objects.filter(pk=refund.pk).update(
        conversation_id="", daraja_originator_conversation_id=""
    )  # as it was before refund_record_acceptance committed

    # when it arrives, then it is kept unmatched
    outcome = _intake(body)
    assert outcome.disposition == Disposition.UNMATCHED
    event = PaymentEvent.objects.get(pk=outcome.event_id)
    assert event.refund_id is None

    # when the acceptance commits and the sweep routes kept results again
    Refund.objects.filter(pk=refund.pk).update(
        conversation_id="AG_20261202_LATE0001",
        daraja_originator_conversation_id="AG-ORIG-1",
    )
    matched = results_reroute_unmatched(since=event.created_at)

    # then it is applied once, and not again by the next sweep
    refund.refresh_from_db()
    assert (matched, refund.status) == (1, Status.COMPLETED)
    assert results_reroute_unmatched(since=event.created_at) == 0


def test_refund_results_for_unknown_ids_are_kept_unmatched():
    # given no refund or check has these ids
    body = timeout_notice("00000000-0000-0000-0000-000000000000", "AG_NOBODY")

    # when it arrives
    outcome = _intake(body, timeout=True)

    # then it is stored, linked to nothing
    event = PaymentEvent.objects.get(pk=outcome.event_id)
    assert outcome.disposition == Disposition.UNMATCHED
    assert (event.kind, event.refund_id, event.status_check_id) == (
        "queue_timeout",
        None,
        None,
    )
