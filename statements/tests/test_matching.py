"""Each matching rule (issue 15 points 3-6), one behaviour per test."""

from datetime import datetime

import pytest

from bookings.models import Booking
from bookings.tests.factories import BookingFactory, UserFactory
from core.time import NAIROBI
from payments.models import MpesaReceipt, Payment, Refund
from payments.tests.conftest import callback_url
from payments.tests.factories import PaymentFactory
from payments.tests.ledger_support import allocated_receipt, paybill_receipt
from payments.tests.payloads import as_bytes, success_callback
from statements.models import StatementDiscrepancy, StatementLine
from statements.tests.support import paid_in, withdrawn

pytestmark = pytest.mark.django_db
Outcome = StatementLine.Outcome
Status = Payment.Status
IN_PERIOD = datetime(2026, 12, 2, 9, 0, tzinfo=NAIROBI)


def _line(receipt: str) -> StatementLine:
    return StatementLine.objects.get(receipt_number=receipt)


def test_known_receipt_of_the_same_amount_is_matched_with_a_statement_sighting(
    import_rows,
):
    # given
    payment = PaymentFactory(completed=True, mpesa_receipt_number="TLK1MATCH1")
    allocated_receipt("TLK1MATCH1", payment=payment, transacted_at=IN_PERIOD)
    # when
    record = import_rows(paid_in("TLK1MATCH1", "3,000.00"))
    # then
    line = _line("TLK1MATCH1")
    assert line.outcome == Outcome.MATCHED
    assert (line.payment_id, line.booking_id) == (payment.pk, payment.booking_id)
    receipt = MpesaReceipt.objects.get(receipt_number="TLK1MATCH1")
    assert receipt.sightings.filter(source="statement").count() == 1
    assert record.summary["matched"] == 1
    assert record.summary["difference"] == 0


def test_known_receipt_of_another_amount_sends_its_payment_to_review(import_rows):
    # given
    payment = PaymentFactory(completed=True, mpesa_receipt_number="TLK1DIFF01")
    allocated_receipt("TLK1DIFF01", payment=payment, transacted_at=IN_PERIOD)
    # when
    record = import_rows(paid_in("TLK1DIFF01", "2,500.00"))
    # then
    assert _line("TLK1DIFF01").outcome == Outcome.AMOUNT_MISMATCH
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW
    assert payment.review_code == Payment.ReviewCode.STATEMENT_AMOUNT_MISMATCH
    assert record.summary["amount_mismatch"] == 1
    assert record.summary["difference"] == -500


def test_unknown_receipt_pays_the_booking_its_account_number_names(import_rows):
    # given
    booking = BookingFactory(amount=3000)
    # when
    record = import_rows(
        paid_in(
            "TLK1BOOK01", account=booking.reference.lower(), reason="Pay Bill Online"
        )
    )
    # then
    line = _line("TLK1BOOK01")
    assert (line.outcome, line.booking_id) == (Outcome.ALLOCATED, booking.pk)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.payment_status == Booking.PaymentStatus.PAID
    receipt = MpesaReceipt.objects.get(receipt_number="TLK1BOOK01")
    assert (receipt.allocation, receipt.booking_id) == ("allocated", booking.pk)
    assert receipt.channel == MpesaReceipt.Channel.PAYBILL
    assert list(receipt.sightings.values_list("source", flat=True)) == ["statement"]
    assert record.summary["allocated"] == 1


@pytest.mark.parametrize(
    "payment_fields",
    [
        {},  # pending
        {"expired": True},
        {"status": Status.FAILED, "result_code": "1037"},
        {
            "status": Status.NEEDS_REVIEW,
            "review_code": "outcome_unknown",
            "checkout_request_id": None,
        },
    ],
    ids=["pending", "expired", "failed_no_answer", "review_outcome_unknown"],
)
def test_unknown_receipt_recovers_the_payment_whose_callback_was_lost(
    import_rows, payment_fields
):
    # given
    payment = PaymentFactory(**payment_fields)
    reference = payment.booking.reference
    # when
    record = import_rows(paid_in("TLK1LOST01", account=reference))
    # then
    line = _line("TLK1LOST01")
    assert (line.outcome, line.payment_id) == (Outcome.RECOVERED, payment.pk)
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert payment.mpesa_receipt_number == "TLK1LOST01"
    booking = Booking.objects.get(pk=payment.booking_id)
    assert booking.payment_status == Booking.PaymentStatus.PAID
    receipt = MpesaReceipt.objects.get(receipt_number="TLK1LOST01")
    assert receipt.payment_id == payment.pk
    assert list(receipt.sightings.values_list("source", flat=True)) == ["statement"]
    assert record.summary["recovered"] == 1


def test_unknown_receipt_completes_a_query_completed_payment_with_its_receipt(
    import_rows,
):
    # given: an STK query completed it; no receipt yet
    booking = BookingFactory(confirmed=True)
    payment = PaymentFactory(booking=booking, completed=True, mpesa_receipt_number=None)
    # when
    import_rows(paid_in("TLK1QURY01", account=booking.reference))
    # then
    assert _line("TLK1QURY01").outcome == Outcome.RECOVERED
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert payment.mpesa_receipt_number == "TLK1QURY01"
    receipt = MpesaReceipt.objects.get(receipt_number="TLK1QURY01")
    assert (receipt.payment_id, receipt.allocation) == (payment.pk, "allocated")


def test_a_payment_cancelled_on_the_phone_is_not_a_candidate(import_rows):
    # given: 1032 means no money moved: the booking's own money is Paybill
    # (an STK row contradicting the failure goes to review instead:
    # test_review_fixes_money_in)
    payment = PaymentFactory(failed=True)
    # when
    import_rows(
        paid_in(
            "TLK1CANC01", account=payment.booking.reference, reason="Pay Bill Online"
        )
    )
    # then
    assert _line("TLK1CANC01").outcome == Outcome.ALLOCATED
    payment.refresh_from_db()
    assert payment.status == Status.FAILED


@pytest.mark.parametrize(
    ("booking_fields", "amount", "reason"),
    [
        (None, "3,000.00", "unknown_account"),
        ({"amount": 3000}, "2,000.00", "underpaid"),
        ({"amount": 3000}, "4,000.00", "overpaid"),
        ({"confirmed": True}, "3,000.00", "duplicate_payment"),
        ({"cancelled": True}, "3,000.00", "booking_not_payable"),
    ],
)
def test_unknown_receipt_that_pays_nothing_is_unallocated_with_its_reason(
    import_rows, booking_fields, amount, reason
):
    # given
    account = (
        BookingFactory(**booking_fields).reference if booking_fields else "HYZZZZZ9"
    )
    # when
    record = import_rows(paid_in("TLK1UNAL01", amount, account=account))
    # then
    line = _line("TLK1UNAL01")
    assert (line.outcome, line.unallocated_reason) == (Outcome.UNALLOCATED, reason)
    receipt = MpesaReceipt.objects.get(receipt_number="TLK1UNAL01")
    assert (receipt.allocation, receipt.unallocated_reason) == ("unallocated", reason)
    assert record.summary["unallocated"] == 1
    assert record.summary["discrepancies"][0]["line_id"] == line.pk


def test_two_payments_that_could_own_the_money_leave_it_unallocated(import_rows):
    # given
    first = PaymentFactory(expired=True)
    PaymentFactory(booking=first.booking, status=Status.FAILED, result_code="1037")
    # when
    import_rows(paid_in("TLK1TWO001", account=first.booking.reference))
    # then
    line = _line("TLK1TWO001")
    assert (line.outcome, line.unallocated_reason) == (
        Outcome.UNALLOCATED,
        "unknown_payment",
    )
    assert not Payment.objects.filter(status=Status.COMPLETED).exists()


def test_a_row_not_completed_is_recorded_and_not_matched(import_rows):
    # when
    import_rows(paid_in("TLK1FAIL01", status="Failed"))
    # then
    assert _line("TLK1FAIL01").outcome == Outcome.NOT_COMPLETED
    assert not MpesaReceipt.objects.exists()


def test_a_row_with_cents_is_unusable_and_never_rounded(import_rows):
    # when
    record = import_rows(paid_in("TLK1CENT01", "3,000.50"))
    # then
    line = _line("TLK1CENT01")
    assert line.outcome == Outcome.UNUSABLE
    assert "not whole shillings" in line.detail
    assert not MpesaReceipt.objects.exists()
    assert record.summary["unusable"] == 1


def _refund(receipt_number: str = "TLK7ORIG01") -> Refund:
    original = paybill_receipt(receipt_number, account="HYABC234")
    return Refund.objects.create(
        receipt=original,
        amount=3000,
        method=Refund.Method.REVERSAL,
        reason=Refund.Reason.UNKNOWN_ACCOUNT,
        status=Refund.Status.SUBMITTED,
        requested_by=UserFactory(),
        approved_by=UserFactory(),
        refund_receipt_number="TLK7REV001",
    )


def test_withdrawal_with_a_refunds_receipt_is_that_refund(import_rows):
    # given
    refund = _refund()
    # when
    import_rows(withdrawn("TLK7REV001"))
    # then
    line = _line("TLK7REV001")
    assert (line.outcome, line.refund_id) == (Outcome.REFUND, refund.pk)


def test_withdrawal_linked_to_a_refunded_receipt_is_that_refund(import_rows):
    # given
    refund = _refund()
    # when
    import_rows(withdrawn("TLK7OTHER1", linked="TLK7ORIG01"))
    # then
    assert _line("TLK7OTHER1").refund_id == refund.pk


@pytest.mark.parametrize(
    ("reason", "outcome"),
    [
        ("Pay Bill Charge", Outcome.CHARGE),
        ("Utility Account to Organization Settlement Account", Outcome.SETTLEMENT),
        ("Business Payment to Customer", Outcome.UNEXPLAINED_WITHDRAWAL),
    ],
)
def test_other_withdrawals_are_categorised_by_reason_type(import_rows, reason, outcome):
    # when
    record = import_rows(withdrawn("TLK8OUT001", "-55.00", reason=reason))
    # then
    assert _line("TLK8OUT001").outcome == outcome
    assert record.summary["withdrawn_total"] == 55


def test_ledger_receipt_of_the_period_the_statement_lacks_is_missing(import_rows):
    # given: our ledger says money came on 2 December; M-Pesa does not show it
    payment = PaymentFactory(completed=True, mpesa_receipt_number="TLK1FORGED")
    allocated_receipt("TLK1FORGED", payment=payment, transacted_at=IN_PERIOD)
    outside = datetime(2026, 11, 20, tzinfo=NAIROBI)
    paybill_receipt("TLK1OLD001", transacted_at=outside)
    # when
    record = import_rows(paid_in("TLK1OTHER1", account="HYZZZZZ9"))
    # then
    missing = StatementDiscrepancy.objects.get()
    assert missing.receipt.receipt_number == "TLK1FORGED"
    assert (missing.payment_id, missing.booking_id) == (payment.pk, payment.booking_id)
    assert record.summary["missing_from_statement"] == 1
    assert record.summary["ledger_in_total"] == 6000
    assert record.summary["difference"] == -3000


def test_the_late_callback_after_a_recovery_is_one_more_sighting(import_rows, client):
    # given: the statement recovered the payment first
    payment = PaymentFactory()
    import_rows(paid_in("NLJ7RT61SV", account=payment.booking.reference))
    body = as_bytes(success_callback(payment.checkout_request_id, receipt="NLJ7RT61SV"))
    # when
    response = client.generic(
        "POST", callback_url(), body, content_type="application/json"
    )
    # then
    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert payment.events.filter(to_status="completed").count() == 1
    receipt = MpesaReceipt.objects.get(receipt_number="NLJ7RT61SV")
    sources = sorted(receipt.sightings.values_list("source", flat=True))
    assert sources == ["statement", "stk_callback"]


def test_money_for_an_expired_booking_whose_slot_is_gone_names_it_for_refund(
    import_rows,
):
    # given
    booking = BookingFactory(expired=True)
    BookingFactory(confirmed=True, advocate=booking.advocate, start=booking.start)
    # when
    import_rows(paid_in("TLK1GONE01", account=booking.reference))
    # then
    line = _line("TLK1GONE01")
    assert (line.outcome, line.unallocated_reason) == (
        Outcome.UNALLOCATED,
        "booking_not_payable",
    )
    receipt = MpesaReceipt.objects.get(receipt_number="TLK1GONE01")
    assert (receipt.booking_id, receipt.allocation) == (booking.pk, "unallocated")
    booking.refresh_from_db()
    assert booking.payment_status == Booking.PaymentStatus.REFUND_DUE
