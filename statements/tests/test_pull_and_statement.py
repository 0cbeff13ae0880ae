"""One receipt that both a Pull and the statement show (two lines: their
Reason Types differ) is one ledger receipt, and each import's summary
counts it once."""

from datetime import datetime

import pytest

from bookings.tests.factories import BookingFactory, UserFactory
from core.time import NAIROBI
from payments.models import MpesaReceipt
from statements.services.importing import rows_import, statement_import
from statements.services.pull_import import pull_row
from statements.tests import support
from statements.tests.pull_support import pulled

pytestmark = pytest.mark.django_db

AT = datetime(2026, 12, 2, 10, 0, 5, tzinfo=NAIROBI)


def _pull(receipt: str, account: str):
    row = pull_row(pulled(receipt, account=account, when=AT))
    return rows_import(rows=[row], source="pull", sha256="p" * 64, user=UserFactory())


def _statement(receipt: str, account: str):
    row = support.paid_in(receipt, account=account, reason="Pay Bill Online")
    data = support.csv_file([row])
    return statement_import(data=data, filename="s.csv", user=UserFactory())


def test_pulled_then_on_the_statement_is_one_receipt_counted_once():
    # given: a Paybill payment the Pull found first
    booking = BookingFactory(amount=3000)
    pull = _pull("TLK8PAIR01", booking.reference)
    # when: the day's statement shows it too
    statement = _statement("TLK8PAIR01", booking.reference)
    # then: one receipt, seen twice; each summary counts it once
    receipt = MpesaReceipt.objects.get(receipt_number="TLK8PAIR01")
    assert receipt.amount == 3000
    assert receipt.sightings.count() == 2
    for summary in (pull.summary, statement.summary):
        assert (summary["paid_in_total"], summary["ledger_in_total"]) == (3000, 3000)
        assert summary["difference"] == 0
    assert statement.summary["matched"] == 1


def test_on_the_statement_then_pulled_is_one_receipt_counted_once():
    # given: a Paybill payment the statement showed first
    booking = BookingFactory(amount=3000)
    statement = _statement("TLK8PAIR02", booking.reference)
    # when: a Pull shows it later
    pull = _pull("TLK8PAIR02", booking.reference)
    # then
    assert MpesaReceipt.objects.filter(receipt_number="TLK8PAIR02").count() == 1
    for summary in (statement.summary, pull.summary):
        assert (summary["paid_in_total"], summary["ledger_in_total"]) == (3000, 3000)
        assert summary["difference"] == 0
    assert pull.summary["matched"] == 1
