"""A later file showing an imported receipt with other values: the earlier
line stands, the row is a ``conflicting_row`` discrepancy (raw kept), the
line's payment goes to review, and the rest of the file imports."""

from datetime import datetime

import pytest
from django.urls import reverse

from bookings.tests.factories import UserFactory
from core.time import NAIROBI
from payments.models import Payment
from payments.tests.factories import PaymentFactory
from payments.tests.ledger_support import allocated_receipt
from statements.models import StatementDiscrepancy, StatementLine
from statements.services.importing import statement_import
from statements.tests import support

pytestmark = pytest.mark.django_db
Kind = StatementDiscrepancy.Kind
IN_PERIOD = datetime(2026, 12, 2, 9, 0, tzinfo=NAIROBI)


def _import(rows, filename: str):
    data = support.csv_file(rows)
    return statement_import(data=data, filename=filename, user=UserFactory())


@pytest.fixture
def first_import():
    """A completed STK payment the first file matched (KES 3,000)."""
    payment = PaymentFactory(completed=True, mpesa_receipt_number="TLK8CONF11")
    allocated_receipt("TLK8CONF11", payment=payment, transacted_at=IN_PERIOD)
    _import([support.paid_in("TLK8CONF11", "3,000.00")], "a.csv")
    return payment


def test_a_conflicting_row_is_recorded_and_its_payment_goes_to_review(first_import):
    # when: a later file shows KES 2,500, and another receipt
    later = _import(
        [
            support.paid_in("TLK8CONF11", "2,500.00"),
            support.paid_in("TLK8CONF12", "1,000.00", time="03-12-2026 09:00:00"),
        ],
        "b.csv",
    )
    # then: the earlier line stands, the conflict links to it
    line = StatementLine.objects.get(receipt_number="TLK8CONF11")
    assert (line.paid_in, line.outcome) == (3000, "matched")
    item = later.statement_import.discrepancies.get(kind=Kind.CONFLICTING_ROW)
    assert (item.line_id, item.receipt_id) == (line.pk, line.receipt_id)
    assert (item.payment_id, item.amount) == (first_import.pk, 2500)
    assert item.raw["Paid In"] == "2,500.00"
    assert "KES 2,500" in item.detail
    assert "KES 3,000" in item.detail
    first_import.refresh_from_db()
    assert first_import.status == Payment.Status.NEEDS_REVIEW
    assert first_import.review_code == Payment.ReviewCode.STATEMENT_AMOUNT_MISMATCH
    # and the rest of the file imported, the summary shows it
    assert StatementLine.objects.filter(receipt_number="TLK8CONF12").exists()
    assert later.summary["conflicting_row"] == 1
    shown = [
        d for d in later.summary["discrepancies"] if d["kind"] == Kind.CONFLICTING_ROW
    ]
    assert [(d["receipt"], d["line_id"]) for d in shown] == [("TLK8CONF11", line.pk)]


def test_the_same_values_again_are_no_conflict(first_import):
    # when: a later file shows the receipt as the first did
    later = _import(
        [
            support.paid_in("TLK8CONF11", "3,000.00"),
            support.paid_in("TLK8CONF13", "1,000.00", time="03-12-2026 09:00:00"),
        ],
        "c.csv",
    )
    # then
    assert later.summary["conflicting_row"] == 0
    assert later.summary["merged"] == 1
    first_import.refresh_from_db()
    assert first_import.status == Payment.Status.COMPLETED


def test_the_conflict_shows_in_the_admin(client, first_import):
    # given
    _import([support.paid_in("TLK8CONF11", "2,500.00")], "d.csv")
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    item = StatementDiscrepancy.objects.get(kind=Kind.CONFLICTING_ROW)
    # when
    listing = client.get(reverse("admin:statements_statementdiscrepancy_changelist"))
    page = client.get(
        reverse("admin:statements_statementdiscrepancy_change", args=[item.pk])
    )
    # then
    assert listing.status_code == 200
    assert b"TLK8CONF11" in listing.content
    assert page.status_code == 200
