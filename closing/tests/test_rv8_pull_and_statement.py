"""Review (s8): one receipt that both a Pull and the statement show is two
statement lines (their Reason Types differ: ``c2b-pay-bill-debit`` and
``Pay Bill Online``), and the day's figures count M-Pesa's side twice."""

import pytest

from bookings.tests.factories import BookingFactory, UserFactory
from closing.services.figures import day_figures
from closing.tests.support import DAY, import_statement, on_day, statement_time
from statements.models import StatementLine
from statements.services.importing import rows_import
from statements.services.pull_import import pull_row
from statements.tests.pull_support import pulled
from statements.tests.support import paid_in

pytestmark = pytest.mark.django_db


def test_a_receipt_pulled_and_on_the_statement_counts_once_for_the_day():
    # given: a Paybill payment of the day, pulled first, then in the file
    booking = BookingFactory(amount=3000)
    at = on_day(10)
    pull = pull_row(pulled("TLK8BOTH01", account=booking.reference, when=at))
    rows_import(rows=[pull], source="pull", sha256="p" * 64, user=UserFactory())
    import_statement(
        paid_in(
            "TLK8BOTH01",
            account=booking.reference,
            time=statement_time(at),
            reason="Pay Bill Online",
        )
    )
    assert StatementLine.objects.filter(receipt_number="TLK8BOTH01").count() == 2
    # when
    figures = day_figures(DAY)
    # then: one receipt of KES 3,000 on both sides, no difference
    assert figures["money_in"]["total"] == {"count": 1, "amount": 3000}
    assert figures["statement"]["paid_in"] == {"count": 1, "amount": 3000}
    assert figures["differences"]["money_in"] == 0
    assert figures["differences"]["money_in_count"] == 0
