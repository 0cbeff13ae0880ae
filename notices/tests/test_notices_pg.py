"""Two workers with the same notice at once (a redelivered task), on
PostgreSQL where row locks are real: one message goes out."""

import pytest

from bookings.models import Booking
from bookings.tests.factories import AdvocateFactory, BookingFactory, UserFactory
from core.tests.concurrency import run_at_once
from notices import services
from notices.models import Notice
from notices.tests.conftest import sms_sent
from payments.tests.factories import PaymentFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _queued_sms_notice(monkeypatch) -> int:
    # The test's own threads send it, not the commit's task.
    monkeypatch.setattr(services, "queue_after_commit", lambda *args: None)
    booking = BookingFactory(client=UserFactory(email=""), advocate=AdvocateFactory())
    PaymentFactory(booking=booking, completed=True, phone_number="254712345678")
    Booking.objects.filter(pk=booking.pk).update(
        status="confirmed", payment_status="paid"
    )
    [notice_id] = services.notice_queue_booking_paid(booking_id=booking.pk)
    return notice_id


def test_two_workers_sending_one_notice_send_it_once(monkeypatch, sms_outbox):
    notice_id = _queued_sms_notice(monkeypatch)
    sent: list[bool] = []

    def send() -> None:
        sent.append(services.notice_send(notice_id=notice_id))

    errors = run_at_once(send, send)

    assert errors == []
    assert sorted(sent) == [False, True]
    assert len(sms_sent(sms_outbox)) == 1
    notice = Notice.objects.get(pk=notice_id)
    assert (notice.status, notice.attempts) == ("sent", 1)


def test_the_same_event_queued_at_once_inserts_one_notice(monkeypatch):
    notice_id = _queued_sms_notice(monkeypatch)
    booking_id = Notice.objects.get(pk=notice_id).booking_id
    Notice.objects.all().delete()
    created: list[list[int]] = []

    def queue() -> None:
        created.append(services.notice_queue_booking_paid(booking_id=booking_id))

    errors = run_at_once(queue, queue)

    assert errors == []
    assert sorted(len(ids) for ids in created) == [0, 1]
    assert Notice.objects.count() == 1
