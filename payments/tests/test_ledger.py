"""Issue 13, point 1 and 3 (first part): every STK success that settles a
payment records its receipt in the ledger, once, with each sighting."""

import importlib

import pytest
from django.apps import apps as django_apps

from bookings.tests.factories import BookingFactory, UserFactory
from payments.models import MpesaReceipt, MpesaReceiptSighting, Payment, PaymentEvent
from payments.services.reconciliation import payment_query
from payments.services.staff import payment_resolve_manually
from payments.tests.conftest import callback_url
from payments.tests.factories import PaymentFactory
from payments.tests.fakes import FakeDarajaClient, query_answer
from payments.tests.payloads import as_bytes, success_callback

pytestmark = pytest.mark.django_db
Allocation = MpesaReceipt.Allocation
Reason = MpesaReceipt.UnallocatedReason


def post(client, payload):
    return client.generic(
        "POST", callback_url(), as_bytes(payload), content_type="application/json"
    )


def test_success_callback_records_an_allocated_receipt_with_its_sighting(client):
    # given
    payment = PaymentFactory()
    # when
    post(client, success_callback(payment.checkout_request_id, receipt="QWE1234567"))
    # then
    receipt = MpesaReceipt.objects.get()
    assert receipt.receipt_number == "QWE1234567"
    assert (receipt.channel, receipt.direction) == ("stk", "in")
    assert receipt.amount == 3000
    assert receipt.allocation == Allocation.ALLOCATED
    assert (receipt.payment_id, receipt.booking_id) == (payment.pk, payment.booking_id)
    assert receipt.payer_phone == "254708374149"
    assert receipt.transacted_at is not None
    sighting = receipt.sightings.get()
    assert sighting.source == MpesaReceiptSighting.Source.STK_CALLBACK
    assert sighting.event == PaymentEvent.objects.get(kind="callback")


def test_duplicate_callback_is_one_receipt_with_two_sightings(client):
    # given
    payment = PaymentFactory()
    body = success_callback(payment.checkout_request_id, receipt="QWE1234567")
    # when
    post(client, body)
    post(client, body)
    # then
    receipt = MpesaReceipt.objects.get()
    assert receipt.sightings.count() == 2
    assert MpesaReceipt.objects.filter(allocation=Allocation.ALLOCATED).count() == 1


@pytest.mark.parametrize(
    ("amount", "reason"), [(2000, Reason.UNDERPAID), (3500, Reason.OVERPAID)]
)
def test_wrong_amount_is_unallocated_money_with_its_reason(client, amount, reason):
    # given
    payment = PaymentFactory()
    # when
    post(client, success_callback(payment.checkout_request_id, amount=amount))
    # then
    receipt = MpesaReceipt.objects.get()
    assert receipt.amount == amount
    assert receipt.allocation == Allocation.UNALLOCATED
    assert receipt.unallocated_reason == reason
    assert receipt.payment_id is None


def test_second_payment_for_a_paid_booking_is_unallocated_duplicate_payment(client):
    # given: the booking was paid by another payment
    paid = PaymentFactory(completed=True, booking__confirmed=True)
    second = PaymentFactory(booking=paid.booking, status=Payment.Status.FAILED)
    # when
    post(client, success_callback(second.checkout_request_id, receipt="ZXC1234567"))
    # then
    receipt = MpesaReceipt.objects.get(receipt_number="ZXC1234567")
    assert receipt.allocation == Allocation.UNALLOCATED
    assert receipt.unallocated_reason == Reason.DUPLICATE_PAYMENT


def test_receipt_claimed_by_a_second_payment_is_one_row_with_two_sightings(client):
    # given
    first, second = PaymentFactory(), PaymentFactory()
    post(client, success_callback(first.checkout_request_id, receipt="QWE1234567"))
    # when
    post(client, success_callback(second.checkout_request_id, receipt="QWE1234567"))
    # then
    receipt = MpesaReceipt.objects.get()
    assert receipt.payment_id == first.pk
    assert receipt.sightings.count() == 2


def test_unusable_amount_keeps_money_out_of_the_ledger(client):
    # given: the amount is not a number; the raw event keeps it
    payment = PaymentFactory()
    payload = success_callback(payment.checkout_request_id)
    payload["Body"]["stkCallback"]["CallbackMetadata"]["Item"][0]["Value"] = "NaN"
    # when
    post(client, payload)
    # then
    assert not MpesaReceipt.objects.exists()


def test_query_completed_payment_gets_its_receipt_from_a_late_callback(client):
    # given: completed by a query, which carries no receipt
    payment = PaymentFactory()
    payment_query(
        payment_id=payment.pk, client=FakeDarajaClient(query_result=query_answer("0"))
    )
    assert not MpesaReceipt.objects.exists()
    # when
    post(client, success_callback(payment.checkout_request_id, receipt="LATE123456"))
    # then
    receipt = MpesaReceipt.objects.get()
    assert (receipt.allocation, receipt.payment_id) == (
        Allocation.ALLOCATED,
        payment.pk,
    )


def test_staff_completion_with_a_receipt_records_a_staff_sighting():
    # given
    payment = PaymentFactory(needs_review=True)
    # when
    payment_resolve_manually(
        payment_id=payment.pk,
        to=Payment.Status.COMPLETED,
        note="seen on the statement",
        actor=UserFactory(staff=True),
        mpesa_receipt_number="stf1234567",
    )
    # then
    receipt = MpesaReceipt.objects.get()
    assert receipt.receipt_number == "STF1234567"
    assert receipt.allocation == Allocation.ALLOCATED
    assert receipt.sightings.get().source == MpesaReceiptSighting.Source.STAFF


def test_backfill_records_each_completed_payment_once():
    # given: completed payments from before the ledger, and one in review
    done = PaymentFactory(completed=True)
    PaymentFactory(needs_review=True, mpesa_receipt_number="REV1234567")
    backfill = importlib.import_module(
        "payments.migrations.0009_backfill_receipts"
    ).backfill
    # when: the migration's function runs twice
    backfill(django_apps, None)
    backfill(django_apps, None)
    # then
    receipt = MpesaReceipt.objects.get()
    assert receipt.receipt_number == done.mpesa_receipt_number
    assert (receipt.allocation, receipt.payment_id) == (Allocation.ALLOCATED, done.pk)
    assert receipt.sightings.get().source == MpesaReceiptSighting.Source.STAFF


def test_a_receipt_number_must_be_upper_case_alphanumeric():
    # given
    booking = BookingFactory()
    # when / then: the database refuses what the rules would
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        MpesaReceipt.objects.create(
            receipt_number="abc-123",
            channel="stk",
            amount=1,
            allocation="allocated",
            booking=booking,
        )


def test_verified_callback_is_one_sighting_linked_to_its_stored_event(
    client, settings, fake_daraja, django_capture_on_commit_callbacks
):
    # given: callbacks settle only as a query answers; the query reads the
    # stored callback for its receipt
    settings.MPESA_VERIFY_CALLBACKS = True
    payment = PaymentFactory()
    fake_daraja.query_result = query_answer("0")
    # when
    with django_capture_on_commit_callbacks(execute=True):
        post(
            client,
            success_callback(
                payment.checkout_request_id,
                receipt="VER1234567",
                merchant_request_id=payment.merchant_request_id,
            ),
        )
    # then: the receipt's one sighting is that stored callback
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED
    receipt = MpesaReceipt.objects.get()
    sighting = receipt.sightings.get()
    assert sighting.event == PaymentEvent.objects.get(kind="callback")


def test_receipt_recorded_again_is_one_row_with_two_sightings_and_its_allocation():
    # given: a Paybill receipt, unallocated (the first INSERT went in)
    from payments.services.ledger import ReceiptFacts, receipt_record
    from payments.tests.ledger_support import paybill_receipt

    first = paybill_receipt("TLK3AB12CD", amount=500)
    facts = ReceiptFacts(
        receipt_number="TLK3AB12CD",
        channel=MpesaReceipt.Channel.PAYBILL,
        amount=500,
        source=MpesaReceiptSighting.Source.C2B_CONFIRMATION,
    )
    # when: the same receipt again, straight to the ledger's writer
    again = receipt_record(
        facts=facts,
        allocation=Allocation.UNALLOCATED,
        unallocated_reason=Reason.UNKNOWN_ACCOUNT,
    )
    # then: the INSERT did nothing; the known row got one more sighting, and
    # the transaction is still usable (no aborted statement to roll back)
    assert again.pk == first.pk
    assert MpesaReceipt.objects.count() == 1
    assert again.sightings.count() == 2
    assert again.allocation == Allocation.UNALLOCATED
