"""A pull racing a statement import and a second pull of the same lost
payment, on PostgreSQL where row locks are real: one completion, one
receipt, one line per report."""

import pytest

from bookings.tests.factories import UserFactory
from core.tests.concurrency import run_at_once
from payments.models import MpesaReceipt, Payment, PaymentEvent
from payments.tests.factories import PaymentFactory
from statements.models import StatementLine
from statements.services.importing import statement_import
from statements.services.pull_import import pull_transactions_import
from statements.tests import support
from statements.tests.pull_support import PULL_SHORT_CODE, PullClient, pulled

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
RECEIPT = "NLJ7RT62PL"


@pytest.mark.parametrize("repeat", range(3))
def test_pulls_and_a_statement_recover_a_lost_callback_once(
    repeat, settings, monkeypatch
):
    # given: a pending payment whose callback was lost
    payment = PaymentFactory()
    reference = payment.booking.reference
    settings.MPESA_C2B_SHORT_CODE = PULL_SHORT_CODE
    client = PullClient([pulled(RECEIPT, account=reference)])
    monkeypatch.setattr("payments.services.daraja_client.daraja", lambda: client)
    user = UserFactory()
    data = support.csv_file([support.paid_in(RECEIPT, account=reference)])

    def pull():
        pull_transactions_import(user=user)

    def import_statement():
        statement_import(data=data, filename="s.csv", user=user)

    # when
    errors = run_at_once(pull, pull, import_statement)
    # then
    assert errors == []
    payment.refresh_from_db()
    assert (payment.status, payment.mpesa_receipt_number) == (
        Payment.Status.COMPLETED,
        RECEIPT,
    )
    completions = PaymentEvent.objects.filter(payment=payment, to_status="completed")
    assert completions.count() == 1
    receipt = MpesaReceipt.objects.get(receipt_number=RECEIPT)
    assert receipt.payment_id == payment.pk
    assert StatementLine.objects.filter(receipt_number=RECEIPT).count() == 2
