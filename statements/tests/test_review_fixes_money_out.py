"""Review fixes, money withdrawn: a refund row of another amount is a
discrepancy (fix 3); only the exact settlement Reason Type is a move to
our own account (fix 9)."""

import pytest

from bookings.tests.factories import UserFactory
from payments.models import Refund
from payments.tests.ledger_support import paybill_receipt
from statements.models import StatementLine
from statements.tests.support import withdrawn

pytestmark = pytest.mark.django_db
Outcome = StatementLine.Outcome


def _refund() -> Refund:
    original = paybill_receipt("TLK7ORIG02", account="HYABC234")
    return Refund.objects.create(
        receipt=original,
        amount=3000,
        method=Refund.Method.REVERSAL,
        reason=Refund.Reason.UNKNOWN_ACCOUNT,
        status=Refund.Status.COMPLETED,
        requested_by=UserFactory(),
        approved_by=UserFactory(),
        refund_receipt_number="TLK7REV002",
    )


def test_refund_row_of_the_refunds_amount_is_that_refund(import_rows):
    # given
    refund = _refund()
    # when
    import_rows(withdrawn("TLK7REV002", "-3,000.00"))
    # then
    line = StatementLine.objects.get(receipt_number="TLK7REV002")
    assert (line.outcome, line.refund_id) == (Outcome.REFUND, refund.pk)


@pytest.mark.parametrize(
    "row",
    [
        withdrawn("TLK7REV002", "-2,000.00"),
        withdrawn("TLK7OTHR02", "-2,000.00", linked="TLK7ORIG02"),
    ],
    ids=["by_receipt", "by_linked_transaction"],
)
def test_refund_row_of_another_amount_is_a_mismatch(import_rows, row):
    # given
    refund = _refund()
    # when
    record = import_rows(row)
    # then
    line = StatementLine.objects.get(receipt_number=row["Receipt No."])
    assert (line.outcome, line.refund_id) == (Outcome.AMOUNT_MISMATCH, refund.pk)
    assert "KES 2,000" in line.detail
    assert "KES 3,000" in line.detail
    assert record.summary["amount_mismatch"] == 1
    assert record.summary["discrepancies"][0]["line_id"] == line.pk


@pytest.mark.parametrize(
    "reason",
    [
        "Funds Transfer to Another Organization",
        "Business Transfer to Customer",
        "Transfer to Bank Account of Third Party",
    ],
)
def test_a_transfer_to_someone_else_is_unexplained(import_rows, reason):
    # when
    import_rows(withdrawn("TLK8XFER01", "-500.00", reason=reason))
    # then
    line = StatementLine.objects.get(receipt_number="TLK8XFER01")
    assert line.outcome == Outcome.UNEXPLAINED_WITHDRAWAL


def test_the_settlement_reason_type_matches_whatever_its_case_and_spacing(
    import_rows,
):
    # when
    import_rows(
        withdrawn(
            "TLK8SETL01",
            "-500.00",
            reason="  utility account to  Organization Settlement Account ",
        )
    )
    # then
    line = StatementLine.objects.get(receipt_number="TLK8SETL01")
    assert line.outcome == Outcome.SETTLEMENT


def test_a_word_merely_containing_fee_is_not_a_charge(import_rows):
    # when
    import_rows(withdrawn("TLK8COFF01", "-500.00", reason="Coffee Supplier Payment"))
    # then
    line = StatementLine.objects.get(receipt_number="TLK8COFF01")
    assert line.outcome == Outcome.UNEXPLAINED_WITHDRAWAL
