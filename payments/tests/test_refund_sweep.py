"""The refunds sweep (``refunds_reconcile``): approved refunds sent,
overdue ones marked unknown and asked about, kept results routed again; the
beat entry and ``manage.py query_pending`` that run it."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from payments.daraja.exceptions import DarajaOutcomeUnknown
from payments.models import PaymentEvent, Refund, TransactionStatusCheck
from payments.services import refund_sweep
from payments.services.async_results import result_intake
from payments.services.refund_sweep import refunds_reconcile
from payments.tasks import refunds_reconcile_task
from payments.tests.refund_support import cancelled_paid_booking_receipt
from payments.tests.result_support import (
    approved_refund,
    as_bytes,
    reversal_result,
    status_result,
    submitted_refund,
)

pytestmark = pytest.mark.django_db
Status = Refund.Status


def _age(refund: Refund, seconds: int, *fields: str) -> None:
    past = timezone.now() - timedelta(seconds=seconds)
    Refund.objects.filter(pk=refund.pk).update(**dict.fromkeys(fields, past))


def _intake(body: dict, *, timeout: bool = False):
    return result_intake(
        raw_body=as_bytes(body), source_ip=None, headers={}, timeout=timeout
    )


def test_refund_sweep_sends_approved_refunds_waiting_over_30_s(fake_daraja):
    # given an approved refund whose queued task was lost, and a fresh one
    waiting = approved_refund()
    _age(waiting, 31, "approved_at")
    approved_refund(cancelled_paid_booking_receipt("TLK7REF077"))

    # when the sweep runs
    summary = refunds_reconcile()

    # then only the one waiting was sent
    assert summary.submitted == 1
    assert [r["transaction_id"] for r in fake_daraja.reversals] == ["TLK7REF001"]
    waiting.refresh_from_db()
    assert waiting.status == Status.SUBMITTED


def test_refund_sweep_marks_overdue_submitted_unknown_and_asks(fake_daraja, settings):
    # given a refund submitted longer ago than the result wait
    settings.MPESA_RESULT_WAIT_SECONDS = 600
    refund = submitted_refund(fake_daraja)
    _age(refund, 601, "submitted_at")

    # when the sweep runs
    summary = refunds_reconcile()

    # then it is unknown and Transaction Status was asked about it
    refund.refresh_from_db()
    assert (summary.marked_unknown, summary.status_checks) == (1, 1)
    assert refund.status == Status.UNKNOWN
    check = TransactionStatusCheck.objects.get(refund=refund)
    assert fake_daraja.status_queries[0]["originator_conversation_id"] == str(
        check.originator_conversation_id
    )


def test_refund_sweep_leaves_a_recent_submission_alone(fake_daraja):
    # given a refund submitted a minute ago
    refund = submitted_refund(fake_daraja)
    _age(refund, 60, "submitted_at")

    # when the sweep runs
    refunds_reconcile()

    # then it waits for its result
    refund.refresh_from_db()
    assert refund.status == Status.SUBMITTED
    assert fake_daraja.status_queries == []


def test_refund_sweep_asks_once_per_wait(fake_daraja):
    # given a refund of unknown outcome, asked about by one sweep
    fake_daraja.reversal_result = DarajaOutcomeUnknown(operation="reversal")
    submitted_refund(fake_daraja)
    refunds_reconcile()

    # when the sweep runs again at once
    summary = refunds_reconcile()

    # then it does not ask again within MPESA_RESULT_WAIT_SECONDS
    assert summary.status_checks == 0
    assert len(fake_daraja.status_queries) == 1


def test_refund_sweep_asks_again_after_the_wait(fake_daraja, settings):
    # given a refund asked about longer ago than the wait
    fake_daraja.reversal_result = DarajaOutcomeUnknown(operation="reversal")
    refund = submitted_refund(fake_daraja)
    refunds_reconcile()
    _age(refund, settings.MPESA_RESULT_WAIT_SECONDS + 1, "status_checked_at")

    # when the sweep runs
    refunds_reconcile()

    # then a second check went
    assert len(fake_daraja.status_queries) == 2


def test_submit_timeout_unknown_status_check_completed(fake_daraja):
    # given a submit that timed out: unknown
    fake_daraja.reversal_result = DarajaOutcomeUnknown(operation="reversal")
    refund = submitted_refund(fake_daraja)
    assert refund.status == Status.UNKNOWN

    # when the sweep asks Transaction Status and M-Pesa answers completed
    refunds_reconcile()
    check = TransactionStatusCheck.objects.get(refund=refund)
    _intake(status_result(check, receipt="RLK7OUT321"))

    # then the refund completed, with the reversal's receipt
    refund.refresh_from_db()
    assert (refund.status, refund.refund_receipt_number) == (
        Status.COMPLETED,
        "RLK7OUT321",
    )


def test_queue_timeout_unknown_status_check_completed(fake_daraja):
    # given a reversal whose queue timed out
    refund = submitted_refund(fake_daraja)
    notice = reversal_result(refund, code="QUEUE_TIMEOUT")
    _intake(notice, timeout=True)

    # when the sweep asks and M-Pesa says the money went back
    refunds_reconcile()
    check = TransactionStatusCheck.objects.get(refund=refund)
    assert fake_daraja.status_queries[0]["original_conversation_id"] == str(
        refund.originator_conversation_id
    )
    _intake(status_result(check))

    # then it completed
    refund.refresh_from_db()
    assert refund.status == Status.COMPLETED


def test_refund_sweep_routes_kept_results_again(fake_daraja):
    # given a result kept unmatched (its ids recorded only afterwards)
    refund = submitted_refund(fake_daraja)
    body = reversal_result(refund)
    body["Result"]["OriginatorConversationID"] = "AG-LATER"
    body["Result"]["ConversationID"] = "AG_LATER"
    _intake(body)
    Refund.objects.filter(pk=refund.pk).update(conversation_id="AG_LATER")

    # when the sweep runs
    summary = refunds_reconcile()

    # then the result is applied
    refund.refresh_from_db()
    assert (summary.results_rematched, refund.status) == (1, Status.COMPLETED)
    assert PaymentEvent.objects.filter(
        refund=refund, kind="note", operation="result_matched"
    ).exists()


def test_refund_sweep_unexpected_send_error_leaves_unknown_goes_on(fake_daraja):
    # given two waiting refunds, the first of which blows up
    first = approved_refund()
    second = approved_refund(cancelled_paid_booking_receipt("TLK7REF078"))
    _age(first, 31, "approved_at")
    _age(second, 30 + 2, "approved_at")
    calls = []

    def on_send(operation, kwargs):
        if operation != "reversal":
            return
        calls.append(kwargs["transaction_id"])
        if len(calls) == 1:
            raise RuntimeError("boom")

    fake_daraja.on_send = on_send

    # when the sweep runs
    summary = refunds_reconcile()

    # then the error is counted and the other refund was still sent
    assert summary.errors == 0  # refund_submit turns it into "unknown"
    assert len(calls) == 2
    assert Refund.objects.filter(status=Status.UNKNOWN).count() == 1
    assert Refund.objects.filter(status=Status.SUBMITTED).count() == 1


def test_refund_sweep_counts_an_error_and_continues(fake_daraja, monkeypatch):
    # given two waiting refunds and a submit that raises for the first
    first = approved_refund()
    second = approved_refund(cancelled_paid_booking_receipt("TLK7REF079"))
    _age(first, 40, "approved_at")
    _age(second, 35, "approved_at")
    real = refund_sweep.refund_submit

    def flaky(*, refund_id):
        if refund_id == first.pk:
            raise RuntimeError("database hiccup")
        return real(refund_id=refund_id)

    monkeypatch.setattr(refund_sweep, "refund_submit", flaky)

    # when the sweep runs
    summary = refunds_reconcile()

    # then one error, one sent
    assert (summary.errors, summary.submitted) == (1, 1)


def test_beat_runs_the_refunds_sweep(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["reconcile-refunds"]
    assert entry["task"] == "payments.tasks.refunds_reconcile_task"
    assert entry["schedule"] == settings.MPESA_RECONCILE_INTERVAL_SECONDS


def test_refunds_reconcile_task_returns_the_counts(fake_daraja):
    refund = approved_refund()
    _age(refund, 31, "approved_at")

    assert refunds_reconcile_task()["submitted"] == 1


def test_query_pending_runs_the_refunds_sweep(fake_daraja, daraja_settings):
    # given an approved refund waiting
    refund = approved_refund()
    _age(refund, 31, "approved_at")
    out = io.StringIO()

    # when query_pending runs with --json
    call_command("query_pending", "--json", stdout=out)

    # then it sent the refund and reports the refunds' counts
    document = json.loads(out.getvalue())
    assert document["refunds"]["submitted"] == 1
    assert len(fake_daraja.reversals) == 1


def test_query_pending_prints_the_refunds_table(fake_daraja, daraja_settings):
    out = io.StringIO()
    call_command("query_pending", stdout=out)
    assert "Refunds" in out.getvalue()
    assert "marked unknown" in out.getvalue()
