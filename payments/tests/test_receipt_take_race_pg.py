"""Review defect 1: one receipt never confirms two bookings. An STK success
for payment P (booking B) reports receipt R, which the ledger holds as
unallocated Paybill money; staff allocate R to booking B2 at the same
moment. On PostgreSQL, where row locks are real, each interleaving is forced
with events: R pays exactly one booking, the loser goes to review with a
clear reason, and nothing deadlocks (lock order payment, booking, receipt).
"""

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection

from bookings.models import Booking
from bookings.tests.factories import BookingFactory, UserFactory
from payments.daraja.callbacks import parse_stk_callback
from payments.exceptions import ReceiptActionRefused
from payments.models import MpesaReceipt, Payment
from payments.services import ledger_staff, settlement
from payments.services.ledger_staff import receipt_allocate_to_booking
from payments.services.reports import success_report_from_callback
from payments.tests.factories import PaymentFactory
from payments.tests.ledger_support import paybill_receipt
from payments.tests.payloads import success_callback

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
RECEIPT = "TLK3AB12CD"
Status = Payment.Status


def _stk_success(payment: Payment) -> Callable[[], None]:
    def settle() -> None:
        body = success_callback(payment.checkout_request_id, receipt=RECEIPT)
        report = success_report_from_callback(parse_stk_callback(body))
        settlement.payment_record_success(
            report=report, checkout_request_id=payment.checkout_request_id
        )

    return settle


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


def _pause_after_first_claim_read(monkeypatch, read: threading.Event, go_on):
    """The STK path stops right after its plain read of the ledger row
    until ``go_on()`` returns (only the first read: a later one is the
    fix's read under the lock)."""
    real = settlement.receipt_claim_for_payment
    calls = []

    def paused(**kwargs):
        claim = real(**kwargs)
        calls.append(claim)
        if len(calls) == 1:
            read.set()
            go_on()
        return claim

    monkeypatch.setattr(settlement, "receipt_claim_for_payment", paused)


def _hold_staff_locks(monkeypatch, holding: threading.Event, seconds: float):
    """Staff's allocation sleeps after it locked the booking and receipt
    and changed them, before it commits."""
    real = ledger_staff._staff_event

    def slow(**kwargs):
        event = real(**kwargs)
        holding.set()
        time.sleep(seconds)
        return event

    monkeypatch.setattr(ledger_staff, "_staff_event", slow)


def _assert_staff_won(payment: Payment, other: Booking) -> None:
    receipt = MpesaReceipt.objects.get(receipt_number=RECEIPT)
    assert receipt.allocation == MpesaReceipt.Allocation.ALLOCATED
    assert (receipt.booking_id, receipt.payment_id) == (other.pk, None)
    paid = Booking.objects.filter(payment_status=Booking.PaymentStatus.PAID)
    assert list(paid.values_list("pk", flat=True)) == [other.pk]
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW
    assert payment.review_code == Payment.ReviewCode.RECEIPT_DUPLICATE
    assert payment.mpesa_receipt_number is None
    reason = payment.events.filter(to_status=Status.NEEDS_REVIEW).get().reason
    assert f"receipt {RECEIPT}" in reason
    assert f"allocated to booking {other.reference}" in reason
    assert "nothing was paid" in reason


def test_staff_allocation_committed_after_the_claim_read_pays_one_booking(
    monkeypatch,
):
    # given: P's callback read R as unclaimed; staff then allocate R to B2
    # and commit before the callback takes it
    payment = PaymentFactory()
    paybill_receipt(RECEIPT, amount=payment.amount)
    other = BookingFactory(amount=payment.amount)
    read, allocated = threading.Event(), threading.Event()
    _pause_after_first_claim_read(monkeypatch, read, lambda: allocated.wait(10))

    def staff() -> None:
        read.wait(10)
        try:
            _staff_allocates(other)()
        finally:
            allocated.set()

    # when
    errors = _run(_stk_success(payment), staff)

    # then
    assert errors == {}
    _assert_staff_won(payment, other)


def test_stk_take_waits_for_staff_holding_the_receipt_and_does_not_deadlock(
    monkeypatch,
):
    # given: staff hold the locks of B2 and R (not committed yet) while P's
    # callback, past its plain read, goes on to take R
    payment = PaymentFactory()
    paybill_receipt(RECEIPT, amount=payment.amount)
    other = BookingFactory(amount=payment.amount)
    read, holding = threading.Event(), threading.Event()
    _pause_after_first_claim_read(monkeypatch, read, lambda: holding.wait(10))
    _hold_staff_locks(monkeypatch, holding, seconds=1.0)

    def staff() -> None:
        read.wait(10)
        _staff_allocates(other)()

    # when
    errors = _run(_stk_success(payment), staff)

    # then
    assert errors == {}
    _assert_staff_won(payment, other)


def test_staff_allocating_to_the_payments_own_booking_meanwhile_does_not_deadlock(
    monkeypatch,
):
    # given: a late success for an expired P (staff may allocate to its
    # booking: no prompt open); staff allocate R to P's own booking and hold
    # the booking and receipt locks while the callback goes on
    payment = PaymentFactory(expired=True)
    paybill_receipt(RECEIPT, amount=payment.amount)
    read, holding = threading.Event(), threading.Event()
    _pause_after_first_claim_read(monkeypatch, read, lambda: holding.wait(10))
    _hold_staff_locks(monkeypatch, holding, seconds=1.0)

    def staff() -> None:
        read.wait(10)
        _staff_allocates(payment.booking)()

    # when
    errors = _run(_stk_success(payment), staff)

    # then: R paid the booking once; P completes as that same money
    assert errors == {}
    receipt = MpesaReceipt.objects.get(receipt_number=RECEIPT)
    assert (receipt.booking_id, receipt.payment_id) == (payment.booking_id, payment.pk)
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert payment.mpesa_receipt_number == RECEIPT
    booking = Booking.objects.get(pk=payment.booking_id)
    assert booking.payment_status == Booking.PaymentStatus.PAID


def test_receipt_inserted_and_allocated_after_the_booking_was_paid_pays_one(
    monkeypatch,
):
    # given: R is not in the ledger when P's callback reads it; after the
    # callback confirmed B (not committed), a confirmation records R
    # unallocated and staff allocate it to B2, both committed before the
    # callback inserts its receipt (the insert race of ``_claim_paybill``)
    payment = PaymentFactory()
    other = BookingFactory(amount=payment.amount)
    paid, allocated = threading.Event(), threading.Event()
    real = settlement.booking_mark_paid

    def paused(**kwargs):
        outcome = real(**kwargs)
        paid.set()
        allocated.wait(10)
        return outcome

    monkeypatch.setattr(settlement, "booking_mark_paid", paused)

    def rival() -> None:
        paid.wait(10)
        try:
            paybill_receipt(RECEIPT, amount=payment.amount)
            _staff_allocates(other)()
        finally:
            allocated.set()

    # when
    errors = _run(_stk_success(payment), rival)

    # then
    assert errors == {}
    _assert_staff_won(payment, other)


def _assert_payment_took_it(payment: Payment) -> None:
    receipt = MpesaReceipt.objects.get(receipt_number=RECEIPT)
    assert receipt.allocation == MpesaReceipt.Allocation.ALLOCATED
    assert (receipt.booking_id, receipt.payment_id) == (payment.booking_id, payment.pk)
    assert receipt.channel == MpesaReceipt.Channel.STK
    paid = Booking.objects.filter(payment_status=Booking.PaymentStatus.PAID)
    assert list(paid.values_list("pk", flat=True)) == [payment.booking_id]
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert payment.mpesa_receipt_number == RECEIPT


def test_double_notification_recorded_first_is_still_taken_by_its_payment():
    # given: the C2B copy of P's money is in the ledger, unallocated
    payment = PaymentFactory()
    paybill_receipt(RECEIPT, amount=payment.amount)

    # when: P's callback comes, nobody else touches the receipt
    _stk_success(payment)()

    # then
    _assert_payment_took_it(payment)


def test_double_notification_inserted_while_the_payment_settles_is_taken(
    monkeypatch,
):
    # given: the C2B copy commits R unallocated after P's callback paid the
    # booking and before it records its receipt (the insert race)
    payment = PaymentFactory()
    paid, recorded = threading.Event(), threading.Event()
    real = settlement.booking_mark_paid

    def paused(**kwargs):
        outcome = real(**kwargs)
        paid.set()
        recorded.wait(10)
        return outcome

    monkeypatch.setattr(settlement, "booking_mark_paid", paused)

    def c2b_copy() -> None:
        paid.wait(10)
        try:
            paybill_receipt(RECEIPT, amount=payment.amount)
        finally:
            recorded.set()

    # when
    errors = _run(_stk_success(payment), c2b_copy)

    # then
    assert errors == {}
    _assert_payment_took_it(payment)


def test_staff_waits_for_the_settlement_holding_booking_and_receipt(monkeypatch):
    # given: P's late success holds its booking's and the receipt's locks
    # (the re-read under lock) when staff allocate R to that booking: staff
    # must queue on the booking, not take it and wait for the receipt
    payment = PaymentFactory(expired=True)
    paybill_receipt(RECEIPT, amount=payment.amount)
    locked = threading.Event()
    real = settlement.receipt_claim_locked

    def held(**kwargs):
        claim = real(**kwargs)
        locked.set()
        time.sleep(1.0)
        return claim

    monkeypatch.setattr(settlement, "receipt_claim_locked", held)
    refused: list[str] = []

    def staff() -> None:
        locked.wait(10)
        try:
            _staff_allocates(payment.booking)()
        except ReceiptActionRefused as exc:
            refused.append(exc.message)

    # when
    errors = _run(_stk_success(payment), staff)

    # then: no deadlock; the payment took R, staff were refused
    assert errors == {}
    assert len(refused) == 1
    _assert_payment_took_it(payment)
