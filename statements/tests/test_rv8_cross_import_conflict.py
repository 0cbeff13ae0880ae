"""Review (s8): a receipt a later file shows with another amount than the
earlier import's line (same direction and Reason Type) merges into that
line silently: the conflict the import refuses inside one file is hidden
across two files, with no discrepancy for staff."""

import pytest

from bookings.tests.factories import BookingFactory, UserFactory
from statements.parsing import StatementFormatError
from statements.services.importing import statement_import
from statements.tests import support

pytestmark = pytest.mark.django_db


def test_a_later_file_with_another_amount_for_a_receipt_is_not_hidden():
    # given: the first file paid the booking KES 3,000 with the receipt
    booking = BookingFactory(amount=3000)
    user = UserFactory()
    first = support.paid_in("TLK8CONF01", "3,000.00", account=booking.reference)
    statement_import(data=support.csv_file([first]), filename="a.csv", user=user)
    # when: a later file shows the same receipt paying KES 2,500
    later = support.paid_in("TLK8CONF01", "2,500.00", account=booking.reference)
    other = support.paid_in("TLK8CONF02", "1,000.00", time="03-12-2026 09:00:00")
    data = support.csv_file([later, other])
    # then: refused naming it, or imported with the conflict shown to staff
    mentioned = _import_and_mention(data, user)
    assert any("TLK8CONF01" in text for text in mentioned)


def _import_and_mention(data: bytes, user) -> list[str]:
    """The refusal's message, or the receipts of the import's discrepancies."""
    try:
        result = statement_import(data=data, filename="b.csv", user=user)
    except StatementFormatError as refused:
        return [str(refused)]
    return [item["receipt"] for item in result.summary["discrepancies"]]
