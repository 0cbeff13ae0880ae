"""The refunds sweep under concurrency, on PostgreSQL where row locks are
real: several runners (and workers) at once never submit one refund twice
nor ask about one twice."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from core.tests.concurrency import run_at_once
from payments.daraja.exceptions import DarajaOutcomeUnknown
from payments.models import Refund, TransactionStatusCheck
from payments.services.refund_submission import refund_submit
from payments.services.refund_sweep import refunds_reconcile
from payments.tests.refund_support import cancelled_paid_booking_receipt
from payments.tests.result_support import approved_refund, submitted_refund

pytestmark = [
    pytest.mark.postgres,
    # The groups are migration data: restore them after each flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    # The test's own workers send approved refunds, not the commit's task.
    pytest.mark.usefixtures("refund_submission_not_queued"),
]
Status = Refund.Status


def _slow(fake_daraja) -> None:
    """Each send takes a while, so the runners overlap."""
    fake_daraja.on_send = lambda operation, kwargs: time.sleep(0.2)


def _later(function, seconds: float = 0.1):
    """``function`` started a little after the other runner: it claims
    while the first is still sending (after the first's claim committed)."""

    def run():
        time.sleep(seconds)
        return function()

    return run


def _waiting(refund: Refund) -> None:
    Refund.objects.filter(pk=refund.pk).update(
        approved_at=timezone.now() - timedelta(seconds=31)
    )


def test_two_workers_submitting_one_refund_send_it_once(fake_daraja):
    # given an approved refund
    refund = approved_refund()
    assert fake_daraja.reversals == []
    _slow(fake_daraja)

    # when two workers submit it at once
    errors = run_at_once(
        lambda: refund_submit(refund_id=refund.pk),
        lambda: refund_submit(refund_id=refund.pk),
        _later(lambda: refund_submit(refund_id=refund.pk)),
    )

    # then one reversal went
    assert errors == []
    assert len(fake_daraja.reversals) == 1
    refund.refresh_from_db()
    assert refund.status == Status.SUBMITTED


def test_two_sweeps_at_once_submit_each_refund_once(fake_daraja):
    # given three approved refunds waiting
    refunds = [
        approved_refund(cancelled_paid_booking_receipt(f"TLK7PG{n:04d}"))
        for n in range(3)
    ]
    for refund in refunds:
        _waiting(refund)
    assert fake_daraja.reversals == []
    _slow(fake_daraja)

    # when two sweeps run at once, the second while the first sends
    errors = run_at_once(refunds_reconcile, _later(refunds_reconcile))

    # then each refund went once
    assert errors == []
    sent = sorted(r["transaction_id"] for r in fake_daraja.reversals)
    assert sent == ["TLK7PG0000", "TLK7PG0001", "TLK7PG0002"]
    assert set(Refund.objects.values_list("status", flat=True)) == {Status.SUBMITTED}


def test_two_sweeps_at_once_ask_about_an_unknown_refund_once(fake_daraja):
    # given a refund of unknown outcome
    fake_daraja.reversal_result = DarajaOutcomeUnknown(operation="reversal")
    refund = submitted_refund(fake_daraja)
    assert refund.status == Status.UNKNOWN
    assert fake_daraja.status_queries == []
    _slow(fake_daraja)

    # when two sweeps run at once, and one while the other is asking
    errors = run_at_once(
        refunds_reconcile, refunds_reconcile, _later(refunds_reconcile)
    )

    # then one Transaction Status query went
    assert errors == []
    assert len(fake_daraja.status_queries) == 1
    assert TransactionStatusCheck.objects.filter(refund=refund).count() == 1
