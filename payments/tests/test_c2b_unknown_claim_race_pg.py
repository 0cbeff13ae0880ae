"""Review finding A: a C2B copy of an ``unknown_payment`` receipt never pays
a booking with money staff took meanwhile.

R is an STK success no payment had (recorded unallocated,
``unknown_payment``). Its C2B copy names booking B1; staff allocate R to
B2, or mark it for refund, in the gap between the copy's plain read of R
and the moment it pays B1. On PostgreSQL each interleaving is forced with
events: R pays exactly one booking and is counted once, the copy's loser
pays nothing and leaves a note for staff, and nothing deadlocks (lock
order booking, then receipt, on both sides).
"""

import json
import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection
from django.utils import timezone

from bookings.models import Booking
from bookings.tests.factories import BookingFactory, UserFactory
from payments.exceptions import ReceiptActionRefused
from payments.models import MpesaReceipt, PaymentEvent
from payments.services import c2b_allocation, ledger_staff
from payments.services.c2b import c2b_store_and_apply_confirmation
from payments.services.ledger import ReceiptFacts, receipt_record
from payments.services.ledger_staff import (
    receipt_allocate_to_booking,
    receipt_mark_for_refund,
)
from payments.tests.payloads import as_bytes, c2b_request

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
RECEIPT = "UNK7654321"
AMOUNT = 3000
Allocation = MpesaReceipt.Allocation
PAID = Booking.PaymentStatus.PAID


def _unknown_payment_receipt() -> MpesaReceipt:
    """An STK success callback no payment had, recorded as such."""
    event = PaymentEvent.objects.create(
        kind=PaymentEvent.Kind.CALLBACK,
        checkout_request_id="ws_CO_NEVERLEARNED0042",
        request_body={"Body": {"stkCallback": {"ResultCode": 0}}},
        raw_body=json.dumps({"Body": {}}),
    )
    return receipt_record(
        facts=ReceiptFacts(
            receipt_number=RECEIPT,
            channel=MpesaReceipt.Channel.STK,
            amount=AMOUNT,
            source="stk_callback",
            event_id=event.pk,
            payer_phone="254708374149",
            transacted_at=timezone.now(),
        ),
        allocation=Allocation.UNALLOCATED,
        unallocated_reason=MpesaReceipt.UnallocatedReason.UNKNOWN_PAYMENT,
    )


def _c2b_copy(booking: Booking, amount: str = "3000.00") -> Callable[[], None]:
    body = c2b_request(account=booking.reference, trans_id=RECEIPT, amount=amount)

    def confirm() -> None:
        c2b_store_and_apply_confirmation(
            raw_body=as_bytes(body), source_ip="196.201.214.200", headers={}
        )

    return confirm


def _staff_allocates(booking: Booking) -> Callable[[], None]:
    staff = UserFactory(staff=True)

    def allocate() -> None:
        receipt_allocate_to_booking(
            receipt_id=MpesaReceipt.objects.get(receipt_number=RECEIPT).pk,
            booking_reference=booking.reference,
            actor=staff,
            note="client called",
        )

    return allocate


def _staff_marks_for_refund() -> Callable[[], None]:
    staff = UserFactory(staff=True)

    def mark() -> None:
        receipt_mark_for_refund(
            receipt_id=MpesaReceipt.objects.get(receipt_number=RECEIPT).pk,
            actor=staff,
            note="client asked for it back",
        )

    return mark


def _run(first: Callable[[], None], second: Callable[[], None]) -> dict[str, str]:
    """Run both on their own threads and connections; their errors by name."""
    errors: dict[str, str] = {}

    def runner(name: str, function: Callable[[], None]) -> None:
        try:
            function()
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors[name] = repr(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=runner, args=("first", first)),
        threading.Thread(target=runner, args=("second", second)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads), "deadlocked"
    return errors


def _pause_after_plain_read(monkeypatch, read: threading.Event, go_on) -> None:
    """The copy stops right after its plain read of R until ``go_on()``."""
    real = c2b_allocation.receipt_awaits_its_payer

    def paused(**kwargs):
        free = real(**kwargs)
        read.set()
        go_on()
        return free

    monkeypatch.setattr(c2b_allocation, "receipt_awaits_its_payer", paused)


def _hold_staff_locks(monkeypatch, holding: threading.Event, seconds: float):
    """Staff's action sleeps after it locked and changed R, before commit."""
    real = ledger_staff._staff_event

    def slow(**kwargs):
        event = real(**kwargs)
        holding.set()
        time.sleep(seconds)
        return event

    monkeypatch.setattr(ledger_staff, "_staff_event", slow)


def _staff_in_the_gap(action: Callable[[], None], read, done) -> Callable[[], None]:
    def staff() -> None:
        read.wait(10)
        try:
            action()
        finally:
            done.set()

    return staff


def _paid_bookings() -> list[int]:
    return list(
        Booking.objects.filter(payment_status=PAID).values_list("pk", flat=True)
    )


def _assert_copy_paid_nothing(b1: Booking) -> None:
    b1.refresh_from_db()
    assert (b1.status, b1.payment_status) == ("pending_payment", "unpaid")
    assert MpesaReceipt.objects.count() == 1
    receipt = MpesaReceipt.objects.get()
    sources = sorted(receipt.sightings.values_list("source", flat=True))
    assert "c2b_confirmation" in sources  # the copy is one more sighting
    note = PaymentEvent.objects.get(
        kind=PaymentEvent.Kind.NOTE, reason__contains=f"receipt {RECEIPT}"
    )
    assert b1.reference in note.reason
    assert "nothing was paid" in note.reason


def test_staff_allocation_committed_after_the_copys_read_pays_one_booking(
    monkeypatch,
):
    # given: the copy naming B1 read R free; staff allocate R to B2 and
    # commit before the copy pays B1
    _unknown_payment_receipt()
    b1, b2 = BookingFactory(amount=AMOUNT), BookingFactory(amount=AMOUNT)
    read, allocated = threading.Event(), threading.Event()
    _pause_after_plain_read(monkeypatch, read, lambda: allocated.wait(10))
    staff = _staff_in_the_gap(_staff_allocates(b2), read, allocated)

    # when
    errors = _run(_c2b_copy(b1), staff)

    # then: R paid B2 only, once
    assert errors == {}
    assert _paid_bookings() == [b2.pk]
    receipt = MpesaReceipt.objects.get()
    assert (receipt.allocation, receipt.booking_id) == (Allocation.ALLOCATED, b2.pk)
    _assert_copy_paid_nothing(b1)


def test_copy_waits_for_staff_holding_the_receipt_and_does_not_deadlock(
    monkeypatch,
):
    # given: staff hold B2's and R's locks (not committed) while the copy,
    # past its plain read, goes on to pay B1
    _unknown_payment_receipt()
    b1, b2 = BookingFactory(amount=AMOUNT), BookingFactory(amount=AMOUNT)
    read, holding = threading.Event(), threading.Event()
    _pause_after_plain_read(monkeypatch, read, lambda: holding.wait(10))
    _hold_staff_locks(monkeypatch, holding, seconds=1.0)
    staff = _staff_in_the_gap(_staff_allocates(b2), read, threading.Event())

    # when
    errors = _run(_c2b_copy(b1), staff)

    # then
    assert errors == {}
    assert _paid_bookings() == [b2.pk]
    assert MpesaReceipt.objects.get().booking_id == b2.pk
    _assert_copy_paid_nothing(b1)


def test_marked_for_refund_in_the_gap_the_copy_pays_nothing(monkeypatch):
    # given: staff mark R for refund after the copy read it free
    _unknown_payment_receipt()
    b1 = BookingFactory(amount=AMOUNT)
    read, marked = threading.Event(), threading.Event()
    _pause_after_plain_read(monkeypatch, read, lambda: marked.wait(10))
    staff = _staff_in_the_gap(_staff_marks_for_refund(), read, marked)

    # when
    errors = _run(_c2b_copy(b1), staff)

    # then: B1 is not paid with money marked for refund
    assert errors == {}
    assert _paid_bookings() == []
    receipt = MpesaReceipt.objects.get()
    assert receipt.refund_marked_at is not None
    assert (receipt.allocation, receipt.booking_id) == (Allocation.UNALLOCATED, None)
    _assert_copy_paid_nothing(b1)


def test_staff_wait_for_the_copy_holding_booking_and_receipt(monkeypatch):
    # given: the copy holds B1's and R's locks (its re-read under lock)
    # when staff allocate R to B2: staff wait, then are refused
    _unknown_payment_receipt()
    b1, b2 = BookingFactory(amount=AMOUNT), BookingFactory(amount=AMOUNT)
    locked = threading.Event()
    real = c2b_allocation.receipt_awaits_its_payer_locked

    def held(**kwargs):
        free = real(**kwargs)
        locked.set()
        time.sleep(1.0)
        return free

    monkeypatch.setattr(c2b_allocation, "receipt_awaits_its_payer_locked", held)
    refused: list[str] = []

    def staff() -> None:
        locked.wait(10)
        try:
            _staff_allocates(b2)()
        except ReceiptActionRefused as exc:
            refused.append(exc.message)

    # when
    errors = _run(_c2b_copy(b1), staff)

    # then: the copy paid B1 with R; staff were refused
    assert errors == {}
    assert len(refused) == 1
    assert _paid_bookings() == [b1.pk]
    receipt = MpesaReceipt.objects.get()
    assert (receipt.allocation, receipt.booking_id) == (Allocation.ALLOCATED, b1.pk)
