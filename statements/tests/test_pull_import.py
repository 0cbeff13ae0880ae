"""Pull Transactions imported as statement rows (issue 15, point 8): the
conversion of each field, every matching rule through the pull path, rule
6 limited to what Pull returns, re-runs and overlapping windows. Daraja
is a fake client at the one seam (``daraja_client.daraja``)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from bookings.models import Booking
from bookings.tests.factories import BookingFactory
from payments.models import MpesaReceipt, MpesaReceiptSighting, Payment
from payments.services.pull import PullNotConfigured
from payments.tests.factories import PaymentFactory
from payments.tests.ledger_support import allocated_receipt, paybill_receipt
from statements.models import StatementDiscrepancy, StatementImport, StatementLine
from statements.services.pull_import import (
    PullImportError,
    pull_row,
    pull_rows,
    pull_transactions_import,
)
from statements.tests.pull_support import PULL_SHORT_CODE, PullClient, pulled

pytestmark = pytest.mark.django_db
Outcome = StatementLine.Outcome


@pytest.fixture
def daraja_pull(settings, monkeypatch):
    """Install the rows Daraja's Pull answers with; returns the client."""
    settings.MPESA_C2B_SHORT_CODE = PULL_SHORT_CODE

    def install(*rows, error=None) -> PullClient:
        client = PullClient(list(rows), error)
        monkeypatch.setattr("payments.services.daraja_client.daraja", lambda: client)
        return client

    return install


def _line(receipt: str) -> StatementLine:
    return StatementLine.objects.get(receipt_number=receipt)


def _ago(**delta) -> timezone.datetime:
    return timezone.now() - timedelta(**delta)


def test_pull_row_maps_every_field():
    # given
    item = pulled("tlk2pull01", "1,500.00", account="HYABC234", msisdn="254708374149")
    # when
    row = pull_row(item)
    # then
    assert row.receipt_number == "TLK2PULL01"
    assert row.completion_time == item.trx_date
    assert row.initiation_time is None
    assert (row.paid_in, row.withdrawn, row.balance) == (1500, 0, None)
    assert row.is_completed is True
    assert row.direction == "in"
    assert row.account_number == "HYABC234"
    assert row.reason_type == "c2b-pay-bill-debit"
    assert row.details == "c2b-pay-bill-debit Haki Yetu"
    assert row.other_party_info == "2547******149"
    assert row.linked_transaction_id == ""
    assert row.amount_problem == ""


def test_pull_row_keeps_no_full_phone_number():
    # when
    row = pull_row(pulled("TLK2PULL02", msisdn="254708374149"))
    # then
    assert "254708374149" not in str(row.raw)
    assert row.raw["transactionId"] == "TLK2PULL02"
    assert row.raw["msisdn"] == "2547******149"


def test_pull_row_keeps_a_masked_number_as_it_came():
    row = pull_row(pulled("TLK2PULL03", msisdn="2547 ***** 126"))
    assert row.other_party_info == "2547 ***** 126"


def test_pull_row_with_cents_is_unusable_and_never_rounded():
    # when
    row = pull_row(pulled("TLK2CENT01", "3000.50"))
    # then
    assert row.paid_in == 0
    assert "not whole shillings" in row.amount_problem


def test_pull_row_of_a_reversal_is_not_money_in():
    row = pull_row(pulled("TLK2REV001", kind="c2b-reversal-credit"))
    assert row.paid_in == 0
    assert "not money paid in" in row.amount_problem


def test_pull_rows_leave_out_a_receipt_the_statement_could_not_hold():
    # when
    rows, unreadable = pull_rows([pulled("TLK2OK0001"), pulled("NOT-A-RECEIPT")])
    # then
    assert [row.receipt_number for row in rows] == ["TLK2OK0001"]
    assert unreadable == 1


def test_pull_of_a_known_receipt_is_matched_with_a_pull_sighting(daraja_pull):
    # given
    payment = PaymentFactory(completed=True, mpesa_receipt_number="TLK2MATCH1")
    allocated_receipt("TLK2MATCH1", payment=payment, transacted_at=_ago(minutes=30))
    daraja_pull(pulled("TLK2MATCH1"))
    # when
    record = pull_transactions_import().statement_import
    # then
    assert _line("TLK2MATCH1").outcome == Outcome.MATCHED
    receipt = MpesaReceipt.objects.get(receipt_number="TLK2MATCH1")
    assert receipt.sightings.filter(source="pull").count() == 1
    assert record.source == StatementImport.Source.PULL
    assert (record.summary["matched"], record.summary["difference"]) == (1, 0)
    assert record.summary["missing_from_statement"] == 0


def test_pull_of_another_amount_sends_the_payment_to_review(daraja_pull):
    # given
    payment = PaymentFactory(completed=True, mpesa_receipt_number="TLK2DIFF01")
    allocated_receipt("TLK2DIFF01", payment=payment, transacted_at=_ago(minutes=30))
    daraja_pull(pulled("TLK2DIFF01", "2500.00"))
    # when
    summary = pull_transactions_import().summary
    # then
    assert _line("TLK2DIFF01").outcome == Outcome.AMOUNT_MISMATCH
    payment.refresh_from_db()
    assert payment.status == Payment.Status.NEEDS_REVIEW
    assert summary["amount_mismatch"] == 1


def test_pull_pays_the_booking_its_bill_reference_names(daraja_pull):
    # given
    booking = BookingFactory(amount=3000)
    daraja_pull(pulled("TLK2BOOK01", account=booking.reference.lower()))
    # when
    summary = pull_transactions_import().summary
    # then
    assert _line("TLK2BOOK01").outcome == Outcome.ALLOCATED
    booking.refresh_from_db()
    assert booking.payment_status == Booking.PaymentStatus.PAID
    receipt = MpesaReceipt.objects.get(receipt_number="TLK2BOOK01")
    assert receipt.channel == MpesaReceipt.Channel.PAYBILL
    assert list(receipt.sightings.values_list("source", flat=True)) == ["pull"]
    assert (summary["allocated"], summary["difference"]) == (1, 0)


def test_pull_recovers_the_payment_whose_callback_was_lost(daraja_pull):
    # given
    payment = PaymentFactory()
    daraja_pull(pulled("TLK2LOST01", account=payment.booking.reference))
    # when
    summary = pull_transactions_import().summary
    # then
    assert _line("TLK2LOST01").outcome == Outcome.RECOVERED
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED
    assert payment.mpesa_receipt_number == "TLK2LOST01"
    assert summary["recovered"] == 1


def test_pull_of_money_no_booking_awaits_is_unallocated(daraja_pull):
    # given
    daraja_pull(pulled("TLK2UNAL01", account="HYZZZZZ9"))
    # when
    summary = pull_transactions_import().summary
    # then
    line = _line("TLK2UNAL01")
    assert (line.outcome, line.unallocated_reason) == (
        Outcome.UNALLOCATED,
        "unknown_account",
    )
    assert summary["unallocated"] == 1


def test_pull_row_with_cents_becomes_an_unusable_line(daraja_pull):
    daraja_pull(pulled("TLK2CENT02", "10.50"))
    summary = pull_transactions_import().summary
    assert _line("TLK2CENT02").outcome == Outcome.UNUSABLE
    assert not MpesaReceipt.objects.exists()
    assert summary["unusable"] == 1


def test_paybill_receipt_of_the_window_the_pull_lacks_is_missing(daraja_pull):
    # given: a Paybill confirmation we stored that M-Pesa's Pull does not show
    paybill_receipt("TLK2FORGED", transacted_at=_ago(minutes=40))
    daraja_pull(pulled("TLK2OTHER1", account="HYZZZZZ9"))
    # when
    summary = pull_transactions_import().summary
    # then
    missing = StatementDiscrepancy.objects.get()
    assert missing.receipt.receipt_number == "TLK2FORGED"
    assert summary["missing_from_statement"] == 1
    assert (summary["ledger_in_total"], summary["difference"]) == (6000, -3000)


@pytest.mark.parametrize(
    ("channel", "transacted"),
    [
        (MpesaReceipt.Channel.STK, {"minutes": 40}),  # Pull may omit STK
        (MpesaReceipt.Channel.PAYBILL, {"hours": 3}),  # before the window
        (MpesaReceipt.Channel.PAYBILL, {"minutes": 1}),  # Pull may lag
        (MpesaReceipt.Channel.REVERSAL, {"minutes": 40}),  # money out
    ],
    ids=["stk", "before_window", "last_minutes", "money_out"],
)
def test_pull_never_reports_what_it_does_not_show_as_missing(
    daraja_pull, channel, transacted
):
    # given
    receipt = paybill_receipt(
        "TLK2NOTME1", channel=channel, transacted_at=_ago(**transacted)
    )
    if channel == MpesaReceipt.Channel.REVERSAL:
        MpesaReceipt.objects.filter(pk=receipt.pk).update(direction="out")
    daraja_pull()
    # when
    summary = pull_transactions_import().summary
    # then
    assert summary["missing_from_statement"] == 0
    assert (summary["ledger_in_total"], summary["ledger_out_total"]) == (0, 0)
    assert summary["difference"] == 0


def test_pull_that_shows_an_stk_receipt_counts_it_on_both_sides(daraja_pull):
    # given
    payment = PaymentFactory(completed=True, mpesa_receipt_number="TLK2STK001")
    allocated_receipt("TLK2STK001", payment=payment, transacted_at=_ago(minutes=3))
    daraja_pull(pulled("TLK2STK001", when=_ago(minutes=3)))
    # when
    summary = pull_transactions_import().summary
    # then
    assert (summary["paid_in_total"], summary["ledger_in_total"]) == (3000, 3000)
    assert summary["difference"] == 0


def _ledger_state() -> tuple:
    return (
        StatementImport.objects.count(),
        StatementLine.objects.count(),
        MpesaReceipt.objects.count(),
        MpesaReceiptSighting.objects.count(),
        StatementDiscrepancy.objects.count(),
    )


def test_the_same_window_pulled_again_changes_nothing(daraja_pull):
    # given
    booking = BookingFactory(amount=3000)
    daraja_pull(pulled("TLK2SAME01", account=booking.reference))
    with time_machine.travel(timezone.now(), tick=False):
        first = pull_transactions_import()
        before = _ledger_state()
        # when
        again = pull_transactions_import()
    # then
    assert again.created is False
    assert again.statement_import.pk == first.statement_import.pk
    assert _ledger_state() == before
    assert again.summary == first.summary


def test_overlapping_pulls_merge_by_receipt(daraja_pull):
    # given: the first pull saw one payment, the next sees it and another
    daraja_pull(pulled("TLK2OVER01", account="HYZZZZZ9", when=_ago(minutes=50)))
    pull_transactions_import()
    daraja_pull(
        pulled("TLK2OVER01", account="HYZZZZZ9", when=_ago(minutes=50)),
        pulled("TLK2OVER02", account="HYZZZZZ9", when=_ago(minutes=20)),
    )
    # when
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        later = pull_transactions_import()
    # then
    assert later.created is True
    assert (later.summary["lines"], later.summary["merged"]) == (2, 1)
    assert later.summary["new_lines"] == 1
    assert StatementLine.objects.filter(receipt_number="TLK2OVER01").count() == 1
    assert MpesaReceipt.objects.count() == 2
    first = MpesaReceipt.objects.get(receipt_number="TLK2OVER01")
    assert first.sightings.count() == 1
    assert later.summary["missing_from_statement"] == 0


def test_pull_asks_daraja_for_the_window(daraja_pull):
    # given
    client = daraja_pull()
    # when
    with time_machine.travel(timezone.now(), tick=False):
        record = pull_transactions_import(hours=5).statement_import
        now = timezone.now().replace(microsecond=0)
    # then
    assert client.calls[0]["short_code"] == PULL_SHORT_CODE
    assert (client.calls[0]["start"], client.calls[0]["end"]) == (
        now - timedelta(hours=5),
        now,
    )
    assert (record.period_start, record.period_end) == (
        now - timedelta(hours=5),
        now,
    )


@pytest.mark.parametrize("hours", [0, 48, -1])
def test_pull_refuses_a_window_daraja_does_not_keep(daraja_pull, hours):
    client = daraja_pull()
    with pytest.raises(PullImportError):
        pull_transactions_import(hours=hours)
    assert client.calls == []


def test_pull_without_a_c2b_short_code_is_not_configured(daraja_pull, settings):
    # given
    client = daraja_pull()
    settings.MPESA_C2B_SHORT_CODE = ""
    # when / then
    with pytest.raises(PullNotConfigured):
        pull_transactions_import()
    assert client.calls == []
    assert not StatementImport.objects.exists()
