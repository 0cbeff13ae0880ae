"""Review (s8): the import's summary counts a row the portal repeated
(same receipt, same values: one line, one receipt) twice in its totals, so
a statement that agrees with the ledger shows a difference."""

import pytest

from bookings.tests.factories import BookingFactory, UserFactory
from statements.services.importing import statement_import
from statements.tests import support

pytestmark = pytest.mark.django_db


def test_a_repeated_row_is_counted_once_in_the_summary_totals():
    # given: the portal repeated one row (e.g. across a page break)
    booking = BookingFactory(amount=3000)
    row = support.paid_in("TLK8REPT01", account=booking.reference)
    # when
    result = statement_import(
        data=support.csv_file([row, row]), filename="r.csv", user=UserFactory()
    )
    # then: one receipt of KES 3,000 on both sides, nothing to explain
    summary = result.summary
    assert summary["ledger_in_total"] == 3000
    assert summary["paid_in_total"] == 3000
    assert summary["difference"] == 0
