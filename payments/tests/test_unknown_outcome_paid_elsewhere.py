"""Review defect 10: a payment whose push's outcome is unknown is settled
when its own money (its STK callback's receipt, recorded ``unknown_payment``)
pays its booking another way: a C2B copy of the same transaction, or staff
allocating the receipt. Completed with that receipt when exactly one
payment can own it; otherwise a note naming the receipt."""

import json

import pytest
from django.utils import timezone

from bookings.models import Booking
from bookings.tests.factories import BookingFactory, UserFactory
from payments.daraja.callbacks import parse_stk_callback
from payments.daraja.exceptions import DarajaOutcomeUnknown
from payments.exceptions import PaymentProviderUnavailable
from payments.models import MpesaReceipt, Payment, PaymentEvent
from payments.services.c2b import c2b_store_and_apply_confirmation
from payments.services.initiation import payment_initiate
from payments.services.ledger import ReceiptFacts, receipt_record
from payments.services.ledger_staff import receipt_allocate_to_booking
from payments.services.transitions import payment_send_to_review
from payments.tests.fakes import FakeDarajaClient
from payments.tests.ledger_support import paybill_receipt
from payments.tests.payloads import as_bytes, c2b_request
from payments.tests.test_unmatched_callbacks import (
    PHONE,
    post,
    timed_out_push,
    unknown_callback,
)

pytestmark = pytest.mark.django_db
Status = Payment.Status
RECEIPT = "UNK1234567"


def _second_timed_out_push(booking: Booking) -> Payment:
    client = FakeDarajaClient(push_result=DarajaOutcomeUnknown("read timed out"))
    with pytest.raises(PaymentProviderUnavailable):
        payment_initiate(
            user=booking.client,
            booking_id=booking.pk,
            phone_number=PHONE,
            client=client,
        )
    return Payment.objects.filter(booking=booking).latest("pk")


def _in_review(payment: Payment) -> Payment:
    payment_send_to_review(
        payment_id=payment.pk,
        code=Payment.ReviewCode.OUTCOME_UNKNOWN,
        reason="push outcome unknown",
    )
    payment.refresh_from_db()
    return payment


def _unknown_payment_receipt(payment: Payment, *, phone: str = PHONE) -> MpesaReceipt:
    """The push's own success callback, stored and recorded as money no
    payment could take (``unknown_payment``)."""
    body = unknown_callback(payment, phone=int(phone))
    event = PaymentEvent.objects.create(
        kind=PaymentEvent.Kind.CALLBACK,
        request_body=body,
        checkout_request_id="ws_CO_NEVERLEARNED0001",
        raw_body=json.dumps(body),
    )
    return receipt_record(
        facts=ReceiptFacts(
            receipt_number=RECEIPT,
            channel=MpesaReceipt.Channel.STK,
            amount=payment.amount,
            source="stk_callback",
            event_id=event.pk,
            payer_phone=phone,
            transacted_at=parse_stk_callback(body).transaction_date,
        ),
        allocation=MpesaReceipt.Allocation.UNALLOCATED,
        unallocated_reason=MpesaReceipt.UnallocatedReason.UNKNOWN_PAYMENT,
    )


def _c2b_copy(payment: Payment, trans_id: str = RECEIPT) -> None:
    body = c2b_request(
        account=payment.booking.reference,
        trans_id=trans_id,
        amount=f"{payment.amount}.00",
        trans_time=timezone.localtime(payment.created_at).strftime("%Y%m%d%H%M%S"),
    )
    c2b_store_and_apply_confirmation(
        raw_body=as_bytes(body), source_ip="196.201.214.200", headers={}
    )


def _staff_allocates(receipt: MpesaReceipt, booking: Booking) -> None:
    receipt_allocate_to_booking(
        receipt_id=receipt.pk,
        booking_reference=booking.reference,
        actor=UserFactory(staff=True),
        note="client called",
    )


def _assert_completed_with_its_receipt(payment: Payment) -> None:
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert payment.mpesa_receipt_number == RECEIPT
    # It learned its push's id from the callback that reported its money.
    assert payment.checkout_request_id == "ws_CO_NEVERLEARNED0001"
    receipt = MpesaReceipt.objects.get(receipt_number=RECEIPT)
    assert receipt.allocation == MpesaReceipt.Allocation.ALLOCATED
    assert (receipt.payment_id, receipt.booking_id) == (payment.pk, payment.booking_id)
    booking = Booking.objects.get(pk=payment.booking_id)
    assert (booking.status, booking.payment_status) == ("confirmed", "paid")
    completed = payment.events.get(to_status=Status.COMPLETED)
    assert RECEIPT in completed.reason


def test_c2b_copy_of_its_success_completes_a_payment_in_review(
    django_capture_on_commit_callbacks,
):
    # given
    payment = _in_review(timed_out_push())
    _unknown_payment_receipt(payment)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        _c2b_copy(payment)
    # then
    _assert_completed_with_its_receipt(payment)


def test_c2b_copy_completes_an_initiated_push_of_unknown_outcome(
    django_capture_on_commit_callbacks,
):
    # given: still initiated with the note "push outcome unknown"; the copy
    # closes it ("paid by Paybill") while paying the booking
    payment = timed_out_push()
    _unknown_payment_receipt(payment)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        _c2b_copy(payment)
    # then
    _assert_completed_with_its_receipt(payment)


def test_staff_allocation_of_its_unknown_payment_receipt_completes_it(
    django_capture_on_commit_callbacks,
):
    # given
    payment = _in_review(timed_out_push())
    receipt = _unknown_payment_receipt(payment)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        _staff_allocates(receipt, payment.booking)
    # then
    _assert_completed_with_its_receipt(payment)


def test_two_payments_that_could_own_the_receipt_each_get_a_note(
    django_capture_on_commit_callbacks,
):
    # given: two pushes of unknown outcome for one booking, same phone and
    # amount, both in the receipt's time window
    booking = BookingFactory()
    first = _in_review(timed_out_push(booking=booking))
    second = _in_review(_second_timed_out_push(booking))
    receipt = _unknown_payment_receipt(second)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        _staff_allocates(receipt, booking)
    # then: neither is completed; both say which receipt paid the booking
    receipt.refresh_from_db()
    assert (receipt.booking_id, receipt.payment_id) == (booking.pk, None)
    for payment in (first, second):
        payment.refresh_from_db()
        assert payment.status == Status.NEEDS_REVIEW
        notes = payment.events.filter(kind=PaymentEvent.Kind.NOTE)
        assert any(RECEIPT in note.reason for note in notes)


def test_another_phones_receipt_does_not_complete_the_payment(
    django_capture_on_commit_callbacks,
):
    # given: the receipt's payer is not the payment's phone
    payment = _in_review(timed_out_push())
    receipt = _unknown_payment_receipt(payment, phone="254711000222")
    # when
    with django_capture_on_commit_callbacks(execute=True):
        _staff_allocates(receipt, payment.booking)
    # then
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW
    assert payment.mpesa_receipt_number is None


def test_paybill_money_staff_allocate_is_not_the_pushs_money(
    django_capture_on_commit_callbacks,
):
    # given: hand-typed Paybill money (no STK callback ever reported it)
    payment = _in_review(timed_out_push())
    receipt = paybill_receipt(
        RECEIPT, amount=payment.amount, transacted_at=payment.created_at
    )
    # when
    with django_capture_on_commit_callbacks(execute=True):
        _staff_allocates(receipt, payment.booking)
    # then
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW
    assert payment.mpesa_receipt_number is None


def test_its_callback_after_the_c2b_copy_completes_the_payment_in_review(
    client, django_capture_on_commit_callbacks
):
    # given: the C2B copy came first and paid the booking by its reference
    payment = _in_review(timed_out_push())
    _c2b_copy(payment)
    # when: the push's own callback comes, with an id we never learned
    with django_capture_on_commit_callbacks(execute=True):
        post(client, unknown_callback(payment))
    # then
    _assert_completed_with_its_receipt(payment)
