"""Issue 18, point 4: ``query_pending --processes N`` forks N processes that
share the claimed payments. Each payment is queried once, whichever process
asks; two runners at once never query one payment twice (``SKIP LOCKED``);
a process that dies leaves its payments open and counted as errors.

PostgreSQL only: the children open their own connections to the test
database, which SQLite's in-memory test database cannot give them.
"""

import io
import json
import os
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.tests.concurrency import run_at_once
from payments.models import Payment, PaymentEvent
from payments.services import batch_processes
from payments.services.batch_processes import payment_reconcile_pending_in_processes
from payments.tests.factories import PaymentFactory
from payments.tests.fakes import query_answer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
Status = Payment.Status


def _old_pending(count: int) -> list[int]:
    past = timezone.now() - timedelta(minutes=10)
    ids = [PaymentFactory(accepted_at=past).pk for _ in range(count)]
    Payment.objects.filter(pk__in=ids).update(created_at=past)
    return ids


def _queries_per_payment(ids: list[int]) -> Counter:
    """stk_query exchanges stored per payment (each child stores its own)."""
    return Counter(
        PaymentEvent.objects.filter(
            kind=PaymentEvent.Kind.DARAJA_EXCHANGE,
            operation="stk_query",
            payment_id__in=ids,
        ).values_list("payment_id", flat=True)
    )


def _run(processes: int = 3, concurrency: int = 6):
    return payment_reconcile_pending_in_processes(
        processes=processes,
        older_than=60,
        limit=None,
        concurrency=concurrency,
        dry_run=False,
        rate_per_second=1000,
    )


def test_every_claimed_payment_is_queried_once_by_one_of_the_processes(fake_daraja):
    # given: 12 stuck payments that M-Pesa says were paid
    ids = _old_pending(12)
    fake_daraja.query_result = query_answer("0")
    # when
    summary = _run(processes=3)
    # then: all examined, each completed once by one query
    assert summary.examined == 12
    assert sorted(o.payment_id for o in summary.outcomes) == sorted(ids)
    assert summary.as_dict()["completed"] == 12
    assert set(Payment.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        Status.COMPLETED
    }
    assert _queries_per_payment(ids) == Counter({pk: 1 for pk in ids})


def test_two_runners_at_once_never_query_one_payment_twice(fake_daraja):
    # given
    ids = _old_pending(20)
    fake_daraja.query_result = query_answer("0")
    summaries = []
    # when: two copies of query_pending --processes 2 start together
    errors = run_at_once(
        lambda: summaries.append(_run(processes=2, concurrency=4)),
        lambda: summaries.append(_run(processes=2, concurrency=4)),
    )
    # then: between them every payment was queried, and only once
    assert errors == []
    assert sum(s.examined for s in summaries) == 20
    assert _queries_per_payment(ids) == Counter({pk: 1 for pk in ids})


def test_a_process_that_dies_leaves_its_payments_open_and_counted_as_errors(
    fake_daraja, monkeypatch
):
    # given: the second process's share dies before it queries anything
    ids = _old_pending(6)
    fake_daraja.query_result = query_answer("0")
    real = batch_processes.payment_query_claimed
    first_share = sorted(ids)[0::2]

    def dies_unless_first_share(share, **kwargs):
        if sorted(share) != first_share:
            os._exit(3)  # as a crash or an OOM kill would
        return real(share, **kwargs)

    monkeypatch.setattr(
        batch_processes, "payment_query_claimed", dies_unless_first_share
    )
    # when
    summary = _run(processes=2, concurrency=2)
    # then: the living process's payments completed; the others are errors
    # and stay pending for the next sweep
    counts = summary.as_dict()
    assert summary.examined == 6
    assert counts["completed"] == 3
    assert counts["errors"] == 3
    lost = set(ids) - set(first_share)
    statuses = Payment.objects.filter(pk__in=lost).values_list("status", flat=True)
    assert set(statuses) == {Status.PENDING}


def test_the_command_with_processes_reports_every_payment(fake_daraja):
    # given
    ids = _old_pending(5)
    fake_daraja.query_result = query_answer("0")
    out = io.StringIO()
    # when
    call_command(
        "query_pending", "--processes=2", "--concurrency=4", "--json", stdout=out
    )
    # then
    document = json.loads(out.getvalue())
    assert document["summary"]["examined"] == 5
    assert document["summary"]["completed"] == 5
    assert sorted(o["payment_id"] for o in document["outcomes"]) == sorted(ids)
