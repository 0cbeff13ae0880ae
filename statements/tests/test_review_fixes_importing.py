"""Review fixes, the import: one receipt twice in a file with different
amounts is refused, never one picked silently (fix 4); a new file that
overlaps an import cut short applies that import's pending lines, once
(fix 10)."""

import pytest
from django.core.management import CommandError, call_command

from bookings.models import Booking
from bookings.tests.factories import BookingFactory, UserFactory
from payments.models import MpesaReceipt
from statements.models import StatementImport, StatementLine
from statements.parsing import StatementFormatError, parse_statement
from statements.services import importing
from statements.services.importing import statement_import
from statements.tests import support

pytestmark = pytest.mark.django_db
Outcome = StatementLine.Outcome


def test_one_receipt_twice_with_different_amounts_is_refused():
    # given
    rows = [
        support.paid_in("TLK5DUPL01", "3,000.00"),
        support.paid_in("TLK5OTHR01", "1,000.00"),
        support.paid_in("TLK5DUPL01", "2,500.00"),
    ]
    # when / then
    with pytest.raises(StatementFormatError, match=r"TLK5DUPL01.*rows 1 and 3"):
        statement_import(
            data=support.csv_file(rows), filename="d.csv", user=UserFactory()
        )
    assert not StatementImport.objects.exists()
    assert not MpesaReceipt.objects.exists()


def test_command_refuses_a_file_with_a_conflicting_duplicate(tmp_path):
    # given
    rows = [
        support.paid_in("TLK5DUPL02", "3,000.00"),
        support.paid_in("TLK5DUPL02", "3,500.00"),
    ]
    path = tmp_path / "d.csv"
    path.write_bytes(support.csv_file(rows))
    # when / then
    with pytest.raises(CommandError, match="TLK5DUPL02"):
        call_command("import_statement", str(path))
    assert not StatementLine.objects.exists()


def test_one_receipt_twice_with_the_same_values_is_one_line():
    # given: the portal repeated a row (e.g. across a page break)
    booking = BookingFactory(amount=3000)
    row = support.paid_in("TLK5SAME01", account=booking.reference)
    # when
    result = statement_import(
        data=support.csv_file([row, row]), filename="s.csv", user=UserFactory()
    )
    # then
    assert StatementLine.objects.count() == 1
    assert result.summary["merged"] == 1
    assert MpesaReceipt.objects.get().sightings.count() == 1


def test_overlapping_file_applies_the_pending_lines_it_merges_into_once():
    # given: an import stored its lines and stopped before applying them
    booking = BookingFactory(amount=3000)
    row = support.paid_in("TLK5PEND01", account=booking.reference)
    user = UserFactory()
    parsed = parse_statement(support.csv_file([row]), "a.csv")
    earlier, _ = importing._store(
        parsed.rows, "statement", "a" * 64, user, parsed.header, "a.csv"
    )
    assert earlier.lines.get().outcome == Outcome.PENDING
    later = support.paid_in(
        "TLK5PEND02", account="HYZZZZZ9", time="03-12-2026 09:00:00"
    )
    # when: a later file overlaps it
    statement_import(data=support.csv_file([row, later]), filename="b.csv", user=user)
    # then: the merged line is applied, once
    line = StatementLine.objects.get(receipt_number="TLK5PEND01")
    assert line.statement_import_id == earlier.pk
    assert line.outcome == Outcome.ALLOCATED
    booking.refresh_from_db()
    assert booking.payment_status == Booking.PaymentStatus.PAID
    receipt = MpesaReceipt.objects.get(receipt_number="TLK5PEND01")
    assert receipt.sightings.count() == 1
