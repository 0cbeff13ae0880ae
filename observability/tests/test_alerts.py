"""Each alert condition notifies once when it starts, stays quiet while it
holds, and notifies once when it clears (e-mail and webhook)."""

import json
from datetime import timedelta

import pytest
import responses
import time_machine
from django.core import mail
from django.utils import timezone

from bookings.tests.factories import UserFactory
from observability.alerting import alerts_check
from observability.models import AlertState
from observability.tasks import alerts_check_task
from payments.models import Payment, PaymentEvent, Refund
from payments.tests.factories import PaymentEventFactory, PaymentFactory
from payments.tests.ledger_support import paybill_receipt

pytestmark = pytest.mark.django_db
Status = Payment.Status
HOOK = "https://hooks.example.test/services/T0/B0/secret"


@pytest.fixture
def channels(settings):
    """Both channels on; the webhook intercepted."""
    settings.ALERT_EMAILS = ["ops@hakiyetu.test"]
    settings.ALERT_WEBHOOK_URL = HOOK
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(HOOK, body="ok")
        yield mock


@pytest.fixture
def check(django_capture_on_commit_callbacks):
    """Run one alert check, notices sent (after commit) as in production."""

    def _check():
        with django_capture_on_commit_callbacks(execute=True):
            return alerts_check()

    return _check


def _notices(channels) -> list[str]:
    return [json.loads(call.request.body)["text"] for call in channels.calls]


def _ago(**delta) -> timezone.datetime:
    return timezone.now() - timedelta(**delta)


def _assert_one_cycle(check, channels, name, *, start, clear):
    """start -> one notice each way; again -> none; clear -> one more."""
    start()
    first = check()
    assert [(c.name, c.change) for c in first] == [(name, "started")]
    assert len(mail.outbox) == 1
    assert name in mail.outbox[0].subject
    assert mail.outbox[0].to == ["ops@hakiyetu.test"]
    assert _notices(channels)[0].startswith(f"ALERT: {name} started.")
    assert check() == []
    assert len(mail.outbox) == 1
    assert len(channels.calls) == 1
    clear()
    last = check()
    assert [(c.name, c.change) for c in last] == [(name, "cleared")]
    assert len(mail.outbox) == 2
    assert _notices(channels)[1].startswith(f"RESOLVED: {name} cleared.")
    assert AlertState.objects.get(name=name).active is False


def test_alert_payments_overdue(check, channels, settings):
    # given
    settings.MPESA_STK_LIFETIME_SECONDS = 180
    settings.ALERT_GRACE_SECONDS = 60
    payment = PaymentFactory()

    def start():
        Payment.objects.filter(pk=payment.pk).update(created_at=_ago(seconds=300))

    def clear():
        Payment.objects.filter(pk=payment.pk).update(status=Status.EXPIRED)

    # when / then
    _assert_one_cycle(check, channels, "payments_overdue", start=start, clear=clear)


def test_payment_within_lifetime_and_grace_is_not_overdue(check, channels, settings):
    # given
    settings.MPESA_STK_LIFETIME_SECONDS = 180
    settings.ALERT_GRACE_SECONDS = 60
    payment = PaymentFactory()
    Payment.objects.filter(pk=payment.pk).update(created_at=_ago(seconds=200))
    # when
    changes = check()
    # then
    assert changes == []
    assert mail.outbox == []


def test_alert_callback_silence(check, channels, settings):
    # given
    settings.ALERT_SILENCE_MINUTES = 15
    settings.ALERT_SILENCE_MIN_PUSHES = 3

    def start():
        PaymentFactory.create_batch(3, accepted_at=_ago(minutes=5))

    def clear():
        PaymentEventFactory(kind=PaymentEvent.Kind.CALLBACK, payment=None)

    # when / then
    _assert_one_cycle(check, channels, "callback_silence", start=start, clear=clear)


def test_fewer_pushes_than_the_minimum_are_no_silence(check, channels, settings):
    # given
    settings.ALERT_SILENCE_MIN_PUSHES = 3
    PaymentFactory.create_batch(2, accepted_at=_ago(minutes=5))
    PaymentFactory(accepted_at=_ago(minutes=30))
    # when / then
    assert check() == []


def test_alert_review_backlog_of_payments(check, channels, settings):
    # given
    settings.ALERT_REVIEW_BACKLOG = 1
    payments = []

    def start():
        payments.extend(PaymentFactory.create_batch(2, needs_review=True))

    def clear():
        Payment.objects.filter(pk=payments[0].pk).update(status=Status.COMPLETED)

    # when / then
    _assert_one_cycle(check, channels, "review_backlog", start=start, clear=clear)


def test_alert_review_backlog_of_unallocated_money(check, channels, settings):
    # given
    settings.ALERT_REVIEW_BACKLOG = 1
    receipts = []

    def start():
        receipts.append(paybill_receipt("TLK3AB12C1"))
        receipts.append(paybill_receipt("TLK3AB12C2"))

    def clear():
        type(receipts[0]).objects.filter(pk=receipts[0].pk).update(
            allocation="allocated", unallocated_reason=""
        )

    # when / then
    _assert_one_cycle(check, channels, "review_backlog", start=start, clear=clear)


def _refund(status: str) -> Refund:
    return Refund.objects.create(
        receipt=paybill_receipt(),
        amount=3000,
        method=Refund.Method.REVERSAL,
        reason=Refund.Reason.UNKNOWN_ACCOUNT,
        requested_by=UserFactory(),
        approved_by=UserFactory(),
        approved_at=timezone.now(),
        submitted_at=timezone.now(),
        status=status,
    )


def _became_unknown(refund: Refund, *, ago: timedelta) -> None:
    """The status event that made ``refund`` unknown, ``ago`` in the past
    (events are append-only: written with the clock moved back)."""
    with time_machine.travel(timezone.now() - ago, tick=False):
        PaymentEvent.objects.create(
            kind=PaymentEvent.Kind.STATUS_CHANGE,
            refund=refund,
            from_status=Refund.Status.SUBMITTED,
            to_status=Refund.Status.UNKNOWN,
        )


def test_alert_refunds_unknown_for_over_an_hour(check, channels):
    # given
    refund = _refund(Refund.Status.SUBMITTED)
    _became_unknown(refund, ago=timedelta(minutes=61))

    def start():
        Refund.objects.filter(pk=refund.pk).update(status=Refund.Status.UNKNOWN)

    def clear():
        Refund.objects.filter(pk=refund.pk).update(status=Refund.Status.COMPLETED)

    # when / then
    _assert_one_cycle(check, channels, "refunds_unknown", start=start, clear=clear)


def test_refund_unknown_for_minutes_does_not_alert(check, channels):
    # given
    refund = _refund(Refund.Status.UNKNOWN)
    _became_unknown(refund, ago=timedelta(minutes=50))
    # when / then
    assert check() == []


def test_refund_row_touched_later_still_counts_from_becoming_unknown(check, channels):
    # given: unknown 2 h ago; its row saved again just now (late ids)
    refund = _refund(Refund.Status.UNKNOWN)
    _became_unknown(refund, ago=timedelta(hours=2))
    # when
    changes = check()
    # then
    assert [c.name for c in changes] == ["refunds_unknown"]


def _exchanges(n: int, *, http_status: int | None, ago: timedelta | None = None):
    with time_machine.travel(timezone.now() - (ago or timedelta()), tick=False):
        PaymentEventFactory.create_batch(
            n,
            payment=None,
            kind=PaymentEvent.Kind.DARAJA_EXCHANGE,
            operation="stk_push",
            http_status=http_status,
        )


def test_alert_daraja_error_rate(check, channels, settings):
    # given
    settings.ALERT_DARAJA_MIN_REQUESTS = 4
    settings.ALERT_DARAJA_ERROR_RATE = 0.2

    def start():
        _exchanges(2, http_status=200)
        _exchanges(1, http_status=None)  # no answer
        _exchanges(1, http_status=503)

    def clear():
        _exchanges(6, http_status=200)  # 2 of 10: not above 0.2

    # when / then
    _assert_one_cycle(check, channels, "daraja_error_rate", start=start, clear=clear)


def test_daraja_errors_below_the_minimum_count_do_not_alert(check, channels, settings):
    # given
    settings.ALERT_DARAJA_MIN_REQUESTS = 10
    _exchanges(3, http_status=None)
    # when / then
    assert check() == []


def test_daraja_client_errors_are_not_failures(check, channels, settings):
    # given: invalid phone numbers (400) are the caller's mistake
    settings.ALERT_DARAJA_MIN_REQUESTS = 2
    _exchanges(4, http_status=400)
    # when / then
    assert check() == []


def test_old_daraja_errors_fall_out_of_the_window(check, channels, settings):
    # given
    settings.ALERT_DARAJA_MIN_REQUESTS = 2
    settings.ALERT_DARAJA_WINDOW_MINUTES = 10
    _exchanges(3, http_status=500, ago=timedelta(minutes=11))
    # when / then
    assert check() == []


def test_a_failing_webhook_is_logged_and_mail_still_goes(
    check, channels, settings, caplog
):
    # given
    channels.replace(responses.POST, HOOK, status=500)
    settings.ALERT_REVIEW_BACKLOG = 0
    PaymentFactory(needs_review=True)
    # when
    changes = check()
    # then
    assert [c.name for c in changes] == ["review_backlog"]
    assert len(mail.outbox) == 1
    assert "could not post the alert to the webhook" in caplog.text
    assert HOOK not in caplog.text


def test_a_broken_condition_does_not_stop_the_others(check, channels):
    # given
    def broken():
        raise RuntimeError("boom")

    from observability.alerts import Condition

    conditions = {"broken": broken, "fine": lambda: Condition(True, "x")}
    # when
    changes = alerts_check(conditions=conditions)
    # then
    assert [c.name for c in changes] == ["fine"]


def test_the_beat_task_never_raises(monkeypatch):
    # given
    def explode(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr("observability.tasks.alerts_check", explode)
    # when / then
    assert alerts_check_task.delay().get() == 0


def test_no_channel_configured_only_logs(check, settings, caplog):
    # given
    settings.ALERT_EMAILS = []
    settings.ALERT_WEBHOOK_URL = ""
    settings.ALERT_REVIEW_BACKLOG = 0
    PaymentFactory(needs_review=True)
    # when
    check()
    # then
    assert mail.outbox == []
    assert "no ALERT_EMAILS or ALERT_WEBHOOK_URL" in caplog.text


def test_beat_runs_the_alert_check_every_minute(settings):
    # given / when
    entry = settings.CELERY_BEAT_SCHEDULE["check-alerts"]
    # then
    assert entry == {
        "task": "observability.tasks.alerts_check_task",
        "schedule": 60.0,
    }
