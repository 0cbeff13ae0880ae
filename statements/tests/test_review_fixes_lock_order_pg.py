"""Review fix 5: the statement import locks a payment before its receipt,
as every other path does, so an import and a callback for the same
payment never deadlock (PostgreSQL, where row locks are real)."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bookings.tests.factories import UserFactory
from core.tests.concurrency import run_at_once
from payments.models import Payment
from payments.tests.conftest import callback_url
from payments.tests.factories import PaymentFactory
from payments.tests.ledger_support import allocated_receipt
from payments.tests.payloads import as_bytes, success_callback
from statements.models import StatementLine
from statements.services.importing import statement_import
from statements.tests import support

pytestmark = pytest.mark.postgres
RECEIPT = "NLJ7RT61SV"


def _locks(queries: list[dict], table: str) -> list[int]:
    return [
        index
        for index, query in enumerate(queries)
        if "FOR UPDATE" in query["sql"] and f'FROM "{table}"' in query["sql"]
    ]


@pytest.mark.django_db
def test_amount_mismatch_locks_the_payment_before_the_receipt():
    # given
    payment = PaymentFactory(completed=True, mpesa_receipt_number=RECEIPT)
    allocated_receipt(RECEIPT, payment=payment)
    data = support.csv_file([support.paid_in(RECEIPT, "2,500.00")])
    # when
    with CaptureQueriesContext(connection) as captured:
        statement_import(data=data, filename="s.csv", user=UserFactory())
    # then
    payment_locks = _locks(captured.captured_queries, "payments_payment")
    receipt_locks = _locks(captured.captured_queries, "payments_mpesareceipt")
    assert payment_locks
    assert receipt_locks
    assert payment_locks[0] < receipt_locks[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("repeat", range(3))
def test_amount_mismatch_import_and_a_duplicate_callback_both_finish(repeat):
    # given: a completed payment; its callback comes again while the
    # statement shows another amount for its receipt
    payment = PaymentFactory(completed=True, mpesa_receipt_number=RECEIPT)
    allocated_receipt(RECEIPT, payment=payment)
    user = UserFactory()
    body = as_bytes(success_callback(payment.checkout_request_id, receipt=RECEIPT))
    data = support.csv_file([support.paid_in(RECEIPT, "2,500.00")])

    def deliver():
        response = Client().generic(
            "POST", callback_url(), body, content_type="application/json"
        )
        assert response.status_code == 200

    def import_statement():
        statement_import(data=data, filename="s.csv", user=user)

    # when
    errors = run_at_once(deliver, import_statement)
    # then
    assert errors == []
    payment.refresh_from_db()
    assert payment.status == Payment.Status.NEEDS_REVIEW
    line = StatementLine.objects.get(receipt_number=RECEIPT)
    assert line.outcome == StatementLine.Outcome.AMOUNT_MISMATCH
