"""Imports as a whole: idempotent, overlapping statements merge, nothing
half-imported, and the command's --json summary."""

import json

import pytest
from django.core.management import CommandError, call_command

from bookings.tests.factories import BookingFactory, UserFactory
from payments.models import MpesaReceipt, MpesaReceiptSighting
from payments.tests.factories import PaymentFactory
from statements.models import StatementImport, StatementLine
from statements.parsing import StatementFormatError
from statements.services.importing import statement_import
from statements.tests import support

pytestmark = pytest.mark.django_db
SUMMARY_KEYS = {
    "lines",
    "matched",
    "recovered",
    "allocated",
    "unallocated",
    "amount_mismatch",
    "missing_from_statement",
    "unexplained_withdrawal",
    "paid_in_total",
    "withdrawn_total",
    "ledger_in_total",
    "ledger_out_total",
    "difference",
}


def test_importing_the_same_file_again_changes_nothing():
    # given
    booking = BookingFactory()
    data = support.xlsx_file([support.paid_in("TLK2SAME01", account=booking.reference)])
    user = UserFactory()
    first = statement_import(data=data, filename="s.xlsx", user=user)
    # when
    again = statement_import(data=data, filename="s.xlsx", user=user)
    # then
    assert again.created is False
    assert again.statement_import.pk == first.statement_import.pk
    assert StatementLine.objects.count() == 1
    assert MpesaReceiptSighting.objects.count() == 1


def test_an_overlapping_statement_merges_by_receipt_number():
    # given
    payment = PaymentFactory()
    user = UserFactory()
    lost = support.paid_in("TLK2OVER01", account=payment.booking.reference)
    statement_import(data=support.csv_file([lost]), filename="a.csv", user=user)
    later = support.paid_in(
        "TLK2OVER02", account="HYZZZZZ9", time="03-12-2026 09:00:00"
    )
    # when
    second = statement_import(
        data=support.csv_file([lost, later]), filename="b.csv", user=user
    ).statement_import
    # then
    assert StatementLine.objects.count() == 2
    assert second.lines.get().receipt_number == "TLK2OVER02"
    assert second.summary["merged"] == 1
    assert second.summary["lines"] == 2
    assert second.summary["missing_from_statement"] == 0
    assert MpesaReceipt.objects.get(receipt_number="TLK2OVER01").sightings.count() == 1


def test_a_wrong_file_writes_nothing():
    # when
    with pytest.raises(StatementFormatError):
        statement_import(data=b"hello,world\n", filename="x.csv", user=UserFactory())
    # then
    assert not StatementImport.objects.exists()


def test_a_bad_row_anywhere_writes_nothing():
    # given: a good row, then a bad one
    rows = [support.paid_in("TLK2GOOD01"), support.paid_in("TLK2BAD001", "lots")]
    # when
    with pytest.raises(StatementFormatError):
        statement_import(
            data=support.csv_file(rows), filename="x.csv", user=UserFactory()
        )
    # then
    assert not StatementImport.objects.exists()
    assert not MpesaReceipt.objects.exists()


def test_command_prints_the_summary_as_one_json_object(tmp_path, capsys):
    # given
    path = tmp_path / "statement.csv"
    path.write_bytes(
        support.csv_file([support.paid_in("TLK2JSON01", account="HYZZZZZ9")])
    )
    # when
    call_command("import_statement", str(path), "--json")
    # then
    summary = json.loads(capsys.readouterr().out)
    assert set(summary) >= SUMMARY_KEYS
    assert summary["unallocated"] == 1
    assert summary["paid_in_total"] == 3000
    record = StatementImport.objects.get()
    assert record.imported_by.username == "hakiyetu-system"


def test_command_refuses_a_wrong_file_with_the_reason(tmp_path):
    # given
    path = tmp_path / "x.csv"
    path.write_bytes(b"name\n")
    # when
    with pytest.raises(CommandError) as caught:
        call_command("import_statement", str(path))
    # then
    assert "Receipt No. header row" in str(caught.value)
