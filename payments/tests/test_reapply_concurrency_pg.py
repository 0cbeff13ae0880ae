"""Review defect 8: two runs of the re-apply at once (the beat task and
``manage.py reapply_stored_reports``) apply a stored report once, on
PostgreSQL where row locks are real."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import Booking
from bookings.tests.factories import BookingFactory
from core.tests.concurrency import run_at_once
from payments.models import MpesaReceipt, PaymentEvent
from payments.services.events import event_record_c2b_request
from payments.services.reapply import reports_reapply_stored
from payments.tests.payloads import as_bytes, c2b_request

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("attempt", range(3))
def test_two_runs_at_once_apply_a_stored_confirmation_once(time_machine, attempt):
    # given: a confirmation stored, never applied
    booking = BookingFactory(amount=3000)
    event = event_record_c2b_request(
        kind=PaymentEvent.Kind.C2B_CONFIRMATION,
        raw_body=as_bytes(c2b_request(account=booking.reference)),
        source_ip="196.201.214.200",
        headers={},
    )
    time_machine.move_to(timezone.now() + timedelta(minutes=10))
    summaries = []

    def run() -> None:
        summaries.append(reports_reapply_stored())

    # when
    errors = run_at_once(run, run)
    # then
    assert errors == []
    assert sum(s.applied for s in summaries) == 1
    receipt = MpesaReceipt.objects.get()
    assert receipt.sightings.get().event_id == event.pk
    notes = PaymentEvent.objects.filter(kind=PaymentEvent.Kind.NOTE)
    assert [n.reason for n in notes if "re-applied" in n.reason] != []
    assert notes.count() == 1
    booking.refresh_from_db()
    assert booking.payment_status == Booking.PaymentStatus.PAID
