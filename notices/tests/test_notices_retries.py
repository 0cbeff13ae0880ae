"""Issue 17, points 6-7: a failed send is retried with backoff, logged
without the full phone, and never rolls back or blocks the payment."""

import pytest

from bookings.models import Booking
from bookings.tests.factories import AdvocateFactory, BookingFactory, UserFactory
from notices import services
from notices.models import Notice
from notices.tasks import notice_send_task
from notices.tests.conftest import sms_sent
from payments.models import Payment
from payments.tests.conftest import callback_url
from payments.tests.factories import PaymentFactory
from payments.tests.payloads import as_bytes, success_callback

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _retries_run_eagerly():
    """Eager Celery re-runs a retried task inline only when it does not
    propagate errors (a worker's behaviour, without the wait)."""
    from hakiyetu.celery import app

    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True


def _pay(client, payment, captured):
    body = success_callback(
        payment.checkout_request_id, merchant_request_id=payment.merchant_request_id
    )
    with captured(execute=True):
        return client.generic(
            "POST", callback_url(), as_bytes(body), content_type="application/json"
        )


def _failing_first(monkeypatch, times: int) -> list[int]:
    """``_deliver`` raises ``times`` times (naming the phone), then works."""
    calls: list[int] = []
    real = services._deliver

    def deliver(notice):
        calls.append(notice.pk)
        if len(calls) <= times:
            raise ConnectionError(f"provider down for {notice.recipient}")
        real(notice)

    monkeypatch.setattr(services, "_deliver", deliver)
    return calls


@pytest.fixture
def sms_only_booking():
    """A client reached by SMS only (no e-mail), an advocate without one."""
    client = UserFactory(email="")
    return BookingFactory(client=client, advocate=AdvocateFactory())


def test_a_retried_send_delivers_one_message(
    client, fake_daraja, monkeypatch, sms_outbox, sms_only_booking,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    # given the SMS provider fails once
    calls = _failing_first(monkeypatch, times=1)
    payment = PaymentFactory(booking=sms_only_booking, phone_number="254712345678")
    # when the payment succeeds
    response = _pay(client, payment, django_capture_on_commit_callbacks)
    # then the task retried and one SMS went out
    assert response.status_code == 200
    notice = Notice.objects.get()
    assert (notice.status, notice.attempts, len(calls)) == ("sent", 2, 2)
    assert len(sms_sent(sms_outbox)) == 1
    # and running the task again (a redelivered message) sends nothing
    assert notice_send_task.delay(notice.pk).get() is False
    assert len(sms_sent(sms_outbox)) == 1


def test_a_send_that_keeps_failing_never_undoes_the_payment(
    client, fake_daraja, monkeypatch, settings, sms_outbox, sms_only_booking,
    django_capture_on_commit_callbacks, caplog,
):  # fmt: skip
    # given the provider is down for good
    _failing_first(monkeypatch, times=100)
    payment = PaymentFactory(booking=sms_only_booking, phone_number="254712345678")
    # when the payment succeeds
    response = _pay(client, payment, django_capture_on_commit_callbacks)
    # then the payment and booking are settled; the notice failed, retried
    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED
    booking = Booking.objects.get(pk=payment.booking_id)
    assert booking.payment_status == Booking.PaymentStatus.PAID
    notice = Notice.objects.get()
    assert notice.status == Notice.Status.FAILED
    assert notice.attempts == settings.NOTICE_SEND_MAX_RETRIES + 1
    assert sms_sent(sms_outbox) == []
    # and the full phone is in neither the stored error nor the log
    assert "254712345678" not in notice.last_error
    assert "ConnectionError" in notice.last_error
    assert "254712345678" not in caplog.text


def test_failed_notice_is_sent_once_when_the_provider_is_back(
    monkeypatch, sms_outbox, sms_only_booking
):
    # given a notice whose send failed
    _failing_first(monkeypatch, times=1)
    booking = sms_only_booking
    PaymentFactory(booking=booking, completed=True, phone_number="254712345678")
    Booking.objects.filter(pk=booking.pk).update(
        status="confirmed", payment_status="paid"
    )
    [notice_id] = services.notice_queue_booking_paid(booking_id=booking.pk)
    with pytest.raises(services.NoticeSendFailed):
        services.notice_send(notice_id=notice_id)
    # when it is sent again, twice
    assert services.notice_send(notice_id=notice_id) is True
    assert services.notice_send(notice_id=notice_id) is False
    # then one SMS
    assert len(sms_sent(sms_outbox)) == 1
    assert Notice.objects.get().status == "sent"


def test_the_same_event_queued_twice_inserts_one_notice(sms_only_booking):
    # given a paid booking
    booking = sms_only_booking
    PaymentFactory(booking=booking, completed=True, phone_number="254712345678")
    Booking.objects.filter(pk=booking.pk).update(
        status="confirmed", payment_status="paid"
    )
    # when its event is queued twice (a retried queueing task)
    first = services.notice_queue_booking_paid(booking_id=booking.pk)
    second = services.notice_queue_booking_paid(booking_id=booking.pk)
    # then
    assert (len(first), second) == (1, [])
    assert Notice.objects.get().dedupe_key == (
        f"booking_paid_client:sms:booking:{booking.pk}"
    )
