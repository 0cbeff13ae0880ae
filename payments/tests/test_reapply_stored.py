"""Review defect 8: stored reports whose money never reached the ledger are
applied again (``reports_reapply_stored``, ``manage.py
reapply_stored_reports``, the hourly beat task), once."""

import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from bookings.models import Booking
from bookings.tests.factories import BookingFactory
from payments.models import MpesaReceipt, Payment, PaymentEvent
from payments.services.events import event_record_c2b_request, event_record_callback
from payments.services.reapply import reports_reapply_stored
from payments.tasks import reports_reapply_stored_task
from payments.tests.conftest import c2b_url, callback_url
from payments.tests.factories import PaymentFactory
from payments.tests.payloads import (
    as_bytes,
    c2b_request,
    failure_callback,
    success_callback,
)
from payments.tests.test_unmatched_callbacks import timed_out_push, unknown_callback

pytestmark = pytest.mark.django_db
Kind = PaymentEvent.Kind
Reason = MpesaReceipt.UnallocatedReason


@pytest.fixture
def later(time_machine):
    """Move past ``SETTLE``: the events stored so far are no longer the
    intake's to apply."""

    def move() -> None:
        time_machine.move_to(timezone.now() + timedelta(minutes=10))

    return move


def stored_confirmation(body: dict, *, error: str = "") -> PaymentEvent:
    """A confirmation stored as the intake stores it, never applied."""
    return event_record_c2b_request(
        kind=Kind.C2B_CONFIRMATION,
        raw_body=as_bytes(body),
        source_ip="196.201.214.200",
        headers={},
        error=error,
    )


def stored_callback(payload: dict) -> PaymentEvent:
    """A callback stored as the intake stores it, never applied."""
    return event_record_callback(
        raw_body=as_bytes(payload),
        source_ip="196.201.214.200",
        headers={},
        checkout_request_id=payload["Body"]["stkCallback"]["CheckoutRequestID"],
    )


def world() -> tuple[int, int, list]:
    """Receipts, events and every payment's and booking's status."""
    states = sorted(Payment.objects.values_list("pk", "status"))
    states += sorted(Booking.objects.values_list("pk", "status", "payment_status"))
    return MpesaReceipt.objects.count(), PaymentEvent.objects.count(), states


def test_reapply_records_a_confirmation_refused_for_its_thousands_separator(later):
    # given: stored as a 400 by the old parser ("3,000" was unusable)
    booking = BookingFactory(amount=3000)
    event = stored_confirmation(
        c2b_request(account=booking.reference, amount="3,000"),
        error="malformed: C2B request TransAmount is unusable: '3,000'",
    )
    later()
    # when
    summary = reports_reapply_stored()
    # then
    assert (summary.examined, summary.applied) == (1, 1)
    receipt = MpesaReceipt.objects.get()
    assert (receipt.receipt_number, receipt.amount) == ("TLK1234XYZ", 3000)
    assert (receipt.allocation, receipt.booking_id) == ("allocated", booking.pk)
    assert receipt.sightings.get().event_id == event.pk
    booking.refresh_from_db()
    assert booking.payment_status == Booking.PaymentStatus.PAID


def test_reapply_records_a_confirmation_whose_apply_raised(client, later, monkeypatch):
    # given: the intake stored it, applying raised, Safaricom got its 200
    def broken(**kwargs):
        raise RuntimeError("bug")

    booking = BookingFactory(amount=3000)
    body = as_bytes(c2b_request(account=booking.reference))
    with monkeypatch.context() as patch:
        patch.setattr("payments.services.c2b.c2b_apply_confirmation", broken)
        client.generic("POST", c2b_url("confirmation"), body, "application/json")
    assert not MpesaReceipt.objects.exists()
    later()
    # when
    summary = reports_reapply_stored()
    # then
    assert summary.applied == 1
    receipt = MpesaReceipt.objects.get(receipt_number="TLK1234XYZ")
    assert receipt.sightings.count() == 1
    assert receipt.booking_id == booking.pk
    note = PaymentEvent.objects.filter(kind=Kind.NOTE).latest("id")
    assert "re-applied" in note.reason


def test_reapply_twice_changes_nothing_the_second_time(later):
    # given: one confirmation and one unknown-payment callback, applied once
    stored_confirmation(c2b_request(account="NOSUCHREF"))
    stored_callback(success_callback("ws_CO_UNKNOWN", receipt="UNK7654321"))
    later()
    reports_reapply_stored()
    before = world()
    # when
    summary = reports_reapply_stored()
    # then
    assert world() == before
    assert (summary.examined, summary.applied) == (0, 0)


def test_reapply_records_an_unknown_payment_success_as_unallocated(later):
    # given: a success no payment has, stored but never applied
    event = stored_callback(success_callback("ws_CO_UNKNOWN", receipt="UNK7654321"))
    later()
    # when
    summary = reports_reapply_stored()
    # then
    assert summary.applied == 1
    receipt = MpesaReceipt.objects.get()
    assert receipt.unallocated_reason == Reason.UNKNOWN_PAYMENT
    assert receipt.sightings.get().event_id == event.pk


def test_reapply_matches_an_unknown_payment_success_to_its_timed_out_push(later):
    # given: the push's answer was lost; its callback stored, not applied
    payment = timed_out_push()
    stored_callback(unknown_callback(payment))
    later()
    # when
    reports_reapply_stored()
    # then
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED
    assert payment.mpesa_receipt_number == "UNK1234567"
    assert MpesaReceipt.objects.get().payment_id == payment.pk


def test_reapply_settles_the_known_payment_of_a_stored_success(later):
    # given
    payment = PaymentFactory()
    stored_callback(success_callback(payment.checkout_request_id))
    later()
    # when
    reports_reapply_stored()
    # then
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED
    assert MpesaReceipt.objects.get().payment_id == payment.pk


def test_reapply_fails_the_open_payment_of_a_stored_failure(later):
    # given
    payment = PaymentFactory()
    stored_callback(failure_callback(payment.checkout_request_id))
    later()
    # when
    first = reports_reapply_stored()
    second = reports_reapply_stored()
    # then
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    assert (first.applied, second.applied, second.nothing_to_apply) == (1, 0, 1)


def test_reapply_leaves_a_failure_for_a_settled_payment(later):
    # given
    payment = PaymentFactory(completed=True)
    stored_callback(failure_callback(payment.checkout_request_id))
    later()
    # when
    summary = reports_reapply_stored()
    # then
    assert summary.nothing_to_apply == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED


def test_reapply_dry_run_writes_nothing(later):
    # given
    stored_confirmation(c2b_request(account="NOSUCHREF"))
    stored_callback(success_callback("ws_CO_UNKNOWN", receipt="UNK7654321"))
    later()
    before = world()
    # when
    summary = reports_reapply_stored(dry_run=True)
    # then
    assert world() == before
    assert (summary.dry_run, summary.applied) == (True, 2)


def test_reapply_skips_callbacks_under_verification(later, settings):
    # given: callbacks are settled by an STK query, never trusted alone
    settings.MPESA_VERIFY_CALLBACKS = True
    stored_callback(success_callback("ws_CO_UNKNOWN", receipt="UNK7654321"))
    stored_confirmation(c2b_request(account="NOSUCHREF"))
    later()
    # when
    summary = reports_reapply_stored()
    # then
    assert (summary.skipped_verify, summary.applied) == (1, 1)
    receipt = MpesaReceipt.objects.get()
    assert receipt.receipt_number == "TLK1234XYZ"


def test_reapply_leaves_a_report_the_intake_may_still_be_applying():
    # given: stored a moment ago
    stored_confirmation(c2b_request(account="NOSUCHREF"))
    # when
    summary = reports_reapply_stored()
    # then
    assert summary.examined == 0
    assert not MpesaReceipt.objects.exists()


def test_reapply_counts_a_report_already_in_the_ledger(later):
    # given: the receipt came in through another report meanwhile
    stored_confirmation(c2b_request(account="NOSUCHREF", trans_id="SAME123456"))
    stored_confirmation(c2b_request(account="NOSUCHREF", trans_id="SAME123456"))
    later()
    # when
    summary = reports_reapply_stored()
    # then
    assert (summary.applied, summary.already_in_ledger) == (1, 1)
    assert MpesaReceipt.objects.get().sightings.count() == 1


def test_reapply_lists_a_fractional_confirmation_without_a_note_per_run(later):
    # given: the intake kept it (raw event and one note), not the ledger
    event = stored_confirmation(c2b_request(account="NOSUCHREF", amount="3000.50"))
    later()
    # when
    first = reports_reapply_stored()
    second = reports_reapply_stored()
    # then
    assert first.unusable == second.unusable
    assert "3000.50" in first.unusable[event.pk]
    assert not PaymentEvent.objects.filter(kind=Kind.NOTE).exists()
    assert not MpesaReceipt.objects.exists()


def test_reapply_notes_a_still_failing_event_once_per_error(later, monkeypatch):
    # given: applying keeps raising
    def broken(**kwargs):
        raise RuntimeError("still broken")

    monkeypatch.setattr("payments.services.reapply.c2b_apply_confirmation", broken)
    event = stored_confirmation(c2b_request(account="NOSUCHREF"))
    later()
    # when
    first = reports_reapply_stored()
    second = reports_reapply_stored()
    # then
    assert (first.still_failing, second.still_failing) == (1, 1)
    assert first.errors == {event.pk: "RuntimeError: still broken"}
    note = PaymentEvent.objects.get(kind=Kind.NOTE)
    assert f"event {event.pk} failed" in note.reason


def test_command_prints_json_counts_and_exits_0(later, capsys):
    # given
    stored_confirmation(c2b_request(account="NOSUCHREF"))
    later()
    # when
    call_command("reapply_stored_reports", "--json")
    # then
    document = json.loads(capsys.readouterr().out)
    assert (document["examined"], document["applied"]) == (1, 1)
    assert document["errors"] == {}


def test_command_exits_1_with_the_errors_when_an_event_still_fails(
    later, monkeypatch, capsys
):
    # given
    def broken(**kwargs):
        raise RuntimeError("still broken")

    monkeypatch.setattr("payments.services.reapply.c2b_apply_confirmation", broken)
    event = stored_confirmation(c2b_request(account="NOSUCHREF"))
    later()
    # when
    with pytest.raises(CommandError) as raised:
        call_command("reapply_stored_reports", "--json", "--since", "1")
    # then
    assert raised.value.returncode == 1
    document = json.loads(capsys.readouterr().out)
    assert document["still_failing"] == 1
    assert document["errors"] == {str(event.pk): "RuntimeError: still broken"}


def test_command_since_leaves_older_events(later, time_machine):
    # given: stored three hours before the run
    stored_confirmation(c2b_request(account="NOSUCHREF"))
    time_machine.move_to(timezone.now() + timedelta(hours=3))
    # when
    call_command("reapply_stored_reports", "--since", "2")
    # then
    assert not MpesaReceipt.objects.exists()


def test_command_dry_run_writes_nothing(later, capsys):
    # given
    stored_confirmation(c2b_request(account="NOSUCHREF"))
    later()
    before = world()
    # when
    call_command("reapply_stored_reports", "--dry-run")
    # then
    assert world() == before
    assert "Dry run" in capsys.readouterr().out


def test_command_refuses_a_since_that_is_neither_hours_nor_a_date():
    # when / then
    with pytest.raises(CommandError):
        call_command("reapply_stored_reports", "--since", "yesterday")


def test_confirmation_with_a_thousands_separator_is_recorded_at_once(client):
    # given
    booking = BookingFactory(amount=3000)
    body = as_bytes(c2b_request(account=booking.reference, amount="3,000.00"))
    # when
    response = client.generic("POST", c2b_url("confirmation"), body, "application/json")
    # then
    assert response.status_code == 200
    assert MpesaReceipt.objects.get().amount == 3000
    booking.refresh_from_db()
    assert booking.payment_status == Booking.PaymentStatus.PAID


def test_fractional_confirmation_is_acknowledged_kept_and_noted(client):
    # given: money already moved; the ledger holds whole shillings only
    body = as_bytes(c2b_request(account="NOSUCHREF", amount="3000.50"))
    # when
    response = client.generic("POST", c2b_url("confirmation"), body, "application/json")
    # then
    assert response.status_code == 200
    event = PaymentEvent.objects.get(kind=Kind.C2B_CONFIRMATION)
    assert event.raw_body == body.decode()
    note = PaymentEvent.objects.get(kind=Kind.NOTE)
    assert "3000.50" in note.reason
    assert not MpesaReceipt.objects.exists()


def test_beat_runs_the_task_hourly_by_default(settings):
    # given / when
    entry = settings.CELERY_BEAT_SCHEDULE["reapply-stored-reports"]
    # then
    assert entry["task"] == "payments.tasks.reports_reapply_stored_task"
    assert entry["schedule"] == settings.MPESA_REAPPLY_INTERVAL_SECONDS == 3600


def test_task_applies_stored_reports(later):
    # given
    stored_confirmation(c2b_request(account="NOSUCHREF"))
    later()
    # when
    result = reports_reapply_stored_task()
    # then
    assert result["applied"] == 1
    assert MpesaReceipt.objects.count() == 1


@pytest.mark.parametrize("amount", [3000.5, "NaN"])
def test_reapply_leaves_a_success_the_ledger_cannot_take_without_new_events(
    client, later, amount
):
    # given: applied by the intake, which kept the amount out of the ledger
    payment = PaymentFactory()
    payload = success_callback(payment.checkout_request_id)
    payload["Body"]["stkCallback"]["CallbackMetadata"]["Item"][0]["Value"] = amount
    client.generic("POST", callback_url(), as_bytes(payload), "application/json")
    later()
    before = world()
    # when
    first = reports_reapply_stored()
    second = reports_reapply_stored()
    # then
    assert world() == before
    assert len(first.unusable) == len(second.unusable) == 1
