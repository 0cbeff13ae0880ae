"""Issue 13, point 2 (second half): an STK success callback whose
CheckoutRequestID no payment has (our push's answer was lost) is recorded
in the ledger, and allocated to THE payment of unknown outcome when phone,
amount and time agree and exactly one candidate exists; otherwise it is
unallocated money (``unknown_payment``) for staff."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from bookings.models import Booking
from bookings.tests.factories import BookingFactory
from core.tests.concurrency import run_at_once
from payments.daraja.exceptions import DarajaOutcomeUnknown
from payments.exceptions import PaymentProviderUnavailable
from payments.models import MpesaReceipt, Payment, PaymentEvent
from payments.services import spool
from payments.services.callbacks import (
    payment_apply_stored_callback,
    payment_replay_spooled_callbacks,
)
from payments.services.initiation import payment_initiate
from payments.services.reconciliation import payment_query
from payments.services.transitions import payment_accept_push
from payments.services.unmatched_candidates import OUTCOME_UNKNOWN_NOTE
from payments.tests.conftest import callback_url
from payments.tests.factories import PaymentEventFactory, PaymentFactory
from payments.tests.fakes import FakeDarajaClient, query_answer
from payments.tests.payloads import as_bytes, failure_callback, success_callback

pytestmark = pytest.mark.django_db
Status = Payment.Status
Allocation = MpesaReceipt.Allocation
Reason = MpesaReceipt.UnallocatedReason
PHONE = "254708374149"


def timed_out_push(*, booking=None, phone: str = PHONE) -> Payment:
    """A push whose read timed out: initiated, no CheckoutRequestID, the
    note "push outcome unknown" (made by the real initiation)."""
    booking = booking or BookingFactory()
    client = FakeDarajaClient(push_result=DarajaOutcomeUnknown("read timed out"))
    with pytest.raises(PaymentProviderUnavailable):
        payment_initiate(
            user=booking.client,
            booking_id=booking.pk,
            phone_number=phone,
            client=client,
        )
    return Payment.objects.get(booking=booking)


def paid_at(payment: Payment, after: timedelta = timedelta(seconds=20)) -> int:
    """A callback TransactionDate (Nairobi, YYYYMMDDHHmmss)."""
    moment = timezone.localtime(payment.created_at + after)
    return int(moment.strftime("%Y%m%d%H%M%S"))


def unknown_callback(payment: Payment, **overrides) -> dict:
    """A success callback for ``payment``'s push, with an id we never
    learned."""
    fields = {
        "amount": float(payment.amount),
        "receipt": "UNK1234567",
        "phone": int(PHONE),
        "transaction_date": paid_at(payment),
        "merchant_request_id": "29115-99999-1",
    }
    fields.update(overrides)
    checkout_id = fields.pop("checkout_id", "ws_CO_NEVERLEARNED0001")
    return success_callback(checkout_id, **fields)


def post(client, payload):
    return client.generic(
        "POST", callback_url(), as_bytes(payload), content_type="application/json"
    )


def assert_unallocated_unknown(receipt_number: str = "UNK1234567") -> None:
    receipt = MpesaReceipt.objects.get(receipt_number=receipt_number)
    assert receipt.allocation == Allocation.UNALLOCATED
    assert receipt.unallocated_reason == Reason.UNKNOWN_PAYMENT
    assert (receipt.payment_id, receipt.booking_id) == (None, None)


def test_unknown_callback_with_one_candidate_completes_it(client):
    # given
    payment = timed_out_push()
    # when
    response = post(client, unknown_callback(payment))
    # then
    assert response.status_code == 200
    assert response.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert payment.checkout_request_id == "ws_CO_NEVERLEARNED0001"
    assert payment.mpesa_receipt_number == "UNK1234567"
    receipt = MpesaReceipt.objects.get()
    assert receipt.allocation == Allocation.ALLOCATED
    assert (receipt.payment_id, receipt.booking_id) == (payment.pk, payment.booking_id)
    assert receipt.sightings.get().event == PaymentEvent.objects.get(kind="callback")
    booking = Booking.objects.get(pk=payment.booking_id)
    assert booking.status == Booking.Status.CONFIRMED
    events = PaymentEvent.objects.filter(payment=payment)
    assert any("matched by phone, amount and time" in e.reason for e in events)


def test_unknown_callback_completes_a_payment_in_review_for_unknown_outcome(client):
    # given: the sweep sent the timed-out push to review past its lifetime
    payment = PaymentFactory(
        initiated=True,
        status=Status.NEEDS_REVIEW,
        review_code=Payment.ReviewCode.OUTCOME_UNKNOWN,
    )
    # when
    post(client, unknown_callback(payment))
    # then
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert MpesaReceipt.objects.get().payment_id == payment.pk


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"phone": 254711000149}, id="phone differs"),
        pytest.param({"amount": 2999.0}, id="amount differs"),
        pytest.param({"amount": 3000.5}, id="fractional amount"),
    ],
)
def test_unknown_callback_that_disagrees_is_not_allocated(client, overrides):
    # given
    payment = timed_out_push()
    # when
    post(client, unknown_callback(payment, **overrides))
    # then
    payment.refresh_from_db()
    assert payment.status == Status.INITIATED
    assert payment.checkout_request_id is None
    if overrides.get("amount") == 3000.5:
        assert MpesaReceipt.objects.count() == 0  # not whole KES: raw event only
    else:
        assert_unallocated_unknown()


@pytest.mark.parametrize(
    "after",
    [
        pytest.param(timedelta(minutes=-2), id="before the push"),
        pytest.param(timedelta(seconds=180 + 120 + 1), id="after lifetime + grace"),
    ],
)
def test_unknown_callback_outside_the_window_is_unallocated(client, settings, after):
    # given
    settings.MPESA_STK_LIFETIME_SECONDS = 180
    settings.MPESA_UNMATCHED_CALLBACK_WINDOW_SECONDS = 120
    payment = timed_out_push()
    # when
    post(client, unknown_callback(payment, transaction_date=paid_at(payment, after)))
    # then
    payment.refresh_from_db()
    assert payment.status == Status.INITIATED
    assert_unallocated_unknown()


def test_unknown_callback_at_the_end_of_the_window_is_matched(client, settings):
    # given
    settings.MPESA_STK_LIFETIME_SECONDS = 180
    settings.MPESA_UNMATCHED_CALLBACK_WINDOW_SECONDS = 120
    payment = timed_out_push()
    # when
    late = paid_at(payment, timedelta(seconds=180 + 120 - 1))
    post(client, unknown_callback(payment, transaction_date=late))
    # then
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED


def test_unknown_callback_with_two_candidates_is_unallocated(client):
    # given: two timed-out pushes from one phone for the same amount
    first = timed_out_push()
    second = timed_out_push()
    # when
    post(client, unknown_callback(first))
    # then
    statuses = set(
        Payment.objects.filter(pk__in=[first.pk, second.pk]).values_list(
            "status", flat=True
        )
    )
    assert statuses == {Status.INITIATED}
    assert_unallocated_unknown()


def test_unknown_callback_with_no_candidate_is_unallocated(client):
    # given: an ordinary pending payment (it has its CheckoutRequestID)
    payment = PaymentFactory()
    # when
    response = post(client, unknown_callback(payment))
    # then
    assert response.status_code == 200
    assert_unallocated_unknown()
    payment.refresh_from_db()
    assert payment.status == Status.PENDING


def test_unknown_failure_callback_is_only_stored(client):
    # given
    payment = timed_out_push()
    # when
    response = post(client, failure_callback("ws_CO_NEVERLEARNED0001"))
    # then
    assert response.status_code == 200
    assert MpesaReceipt.objects.count() == 0
    payment.refresh_from_db()
    assert payment.status == Status.INITIATED
    assert PaymentEvent.objects.get(kind="callback").payment_id is None


def test_duplicate_of_a_matched_callback_is_one_more_sighting(client):
    # given
    payment = timed_out_push()
    body = unknown_callback(payment)
    post(client, body)
    # when
    post(client, body)
    # then
    receipt = MpesaReceipt.objects.get()
    assert receipt.allocation == Allocation.ALLOCATED
    assert receipt.sightings.count() == 2
    completions = PaymentEvent.objects.filter(payment=payment, to_status="completed")
    assert completions.count() == 1


def test_duplicate_of_an_unallocated_callback_is_one_more_sighting(client):
    # given: no candidate when it came
    payment = PaymentFactory()
    body = unknown_callback(payment)
    post(client, body)
    # when
    post(client, body)
    # then
    assert_unallocated_unknown()
    assert MpesaReceipt.objects.get().sightings.count() == 2


def test_same_receipt_with_another_checkout_id_is_never_allocated_twice(client):
    # given: the receipt is already on a matched payment
    payment = timed_out_push()
    post(client, unknown_callback(payment))
    other = timed_out_push()
    # when: the same receipt again, under another CheckoutRequestID
    post(client, unknown_callback(other, checkout_id="ws_CO_OTHER0002"))
    # then
    other.refresh_from_db()
    assert other.status == Status.INITIATED
    receipt = MpesaReceipt.objects.get()
    assert receipt.payment_id == payment.pk
    assert receipt.sightings.count() == 2


@pytest.mark.parametrize("masked", ["2547****149", "2547 ***** 149", "07******149"])
def test_masked_phone_matches_when_its_visible_digits_agree(client, masked):
    # given
    payment = timed_out_push()
    # when
    post(client, unknown_callback(payment, phone=masked))
    # then
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert MpesaReceipt.objects.get().payer_phone == masked


@pytest.mark.parametrize(
    "phone",
    [
        pytest.param("2547****148", id="masked, other digits"),
        pytest.param("a" * 64, id="hashed"),
        pytest.param("****", id="nothing visible"),
    ],
)
def test_masked_or_hashed_phone_that_cannot_agree_is_unallocated(client, phone):
    # given
    payment = timed_out_push()
    # when
    post(client, unknown_callback(payment, phone=phone))
    # then
    payment.refresh_from_db()
    assert payment.status == Status.INITIATED
    assert_unallocated_unknown()


def test_masked_phone_with_two_candidates_sharing_its_digits_is_unallocated(client):
    # given: two customers whose numbers differ only in the hidden digits
    timed_out_push(phone="254708374149")
    timed_out_push(phone="254701111149")
    # when
    payment = Payment.objects.order_by("pk").first()
    post(client, unknown_callback(payment, phone="2547****149"))
    # then
    assert set(Payment.objects.values_list("status", flat=True)) == {Status.INITIATED}
    assert_unallocated_unknown()


def test_matched_payment_whose_booking_was_paid_goes_to_review_unallocated(client):
    # given: the booking was paid meanwhile (e.g. by Paybill)
    payment = timed_out_push()
    Booking.objects.filter(pk=payment.booking_id).update(
        status=Booking.Status.CONFIRMED, payment_status=Booking.PaymentStatus.PAID
    )
    # when
    post(client, unknown_callback(payment))
    # then
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW
    assert payment.review_code == Payment.ReviewCode.BOOKING_ALREADY_PAID
    receipt = MpesaReceipt.objects.get()
    assert receipt.allocation == Allocation.UNALLOCATED
    assert receipt.unallocated_reason == Reason.DUPLICATE_PAYMENT


def test_callback_before_the_push_answer_is_allocated_once_the_push_is_accepted(
    client,
):
    # given: the push still waits for Daraja's answer when its callback comes
    booking = BookingFactory()
    payment = PaymentFactory(initiated=True, booking=booking)
    post(client, unknown_callback(payment, checkout_id="ws_CO_EARLY0001"))
    assert_unallocated_unknown()  # a push in flight never takes it by matching
    # when: the answer commits, and the early callback is applied to it
    payment_accept_push(
        payment_id=payment.pk,
        merchant_request_id="29115-99999-1",
        checkout_request_id="ws_CO_EARLY0001",
        accepted_at=timezone.now(),
    )
    event = PaymentEvent.objects.get(kind="callback")
    payment_apply_stored_callback(event=event, payment_id=payment.pk)
    # then: the same money, allocated once, one sighting for one report
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    receipt = MpesaReceipt.objects.get()
    assert receipt.allocation == Allocation.ALLOCATED
    assert receipt.payment_id == payment.pk
    assert receipt.sightings.count() == 1


def test_callback_before_the_push_timed_out_is_adopted_by_the_sweep(client):
    # given: the callback came while the push waited, then the push timed out
    booking = BookingFactory()
    in_flight = PaymentFactory(initiated=True, booking=booking)
    post(client, unknown_callback(in_flight, checkout_id="ws_CO_EARLY0002"))
    assert_unallocated_unknown()
    PaymentEventFactory(payment=in_flight, reason=OUTCOME_UNKNOWN_NOTE)
    # when
    outcome = payment_query(payment_id=in_flight.pk, client=FakeDarajaClient())
    # then
    in_flight.refresh_from_db()
    assert outcome.after == Status.COMPLETED
    assert in_flight.checkout_request_id == "ws_CO_EARLY0002"
    receipt = MpesaReceipt.objects.get()
    assert (receipt.allocation, receipt.payment_id) == (
        Allocation.ALLOCATED,
        in_flight.pk,
    )
    assert receipt.sightings.count() == 1


class CallbackThenTimeout(FakeDarajaClient):
    """Daraja took the push and its callback came, but the push's answer
    never did (the soak's ``slow`` fault)."""

    def stk_push(self, *, on_exchange=None, **kwargs):
        self.pushes.append(kwargs)
        payment = Payment.objects.get(checkout_request_id__isnull=True)
        post(Client(), unknown_callback(payment))
        raise DarajaOutcomeUnknown("read timed out")


def test_push_timing_out_after_its_callback_came_takes_its_money():
    # given
    booking = BookingFactory()
    # when
    with pytest.raises(PaymentProviderUnavailable):
        payment_initiate(
            user=booking.client,
            booking_id=booking.pk,
            phone_number=PHONE,
            client=CallbackThenTimeout(),
        )
    # then
    payment = Payment.objects.get(booking=booking)
    assert payment.status == Status.COMPLETED
    assert payment.checkout_request_id == "ws_CO_NEVERLEARNED0001"
    receipt = MpesaReceipt.objects.get()
    assert (receipt.allocation, receipt.payment_id) == (
        Allocation.ALLOCATED,
        payment.pk,
    )
    assert receipt.sightings.count() == 1


def test_sweep_past_lifetime_adopts_for_a_push_without_its_note(client, settings):
    # given: a push whose process died (no note), its callback unallocated
    settings.MPESA_STK_LIFETIME_SECONDS = 60
    payment = PaymentFactory(initiated=True)
    post(client, unknown_callback(payment))
    Payment.objects.filter(pk=payment.pk).update(
        created_at=payment.created_at - timedelta(seconds=61)
    )
    # when
    outcome = payment_query(payment_id=payment.pk, client=FakeDarajaClient())
    # then: to review for its unknown outcome, then completed by the callback
    payment.refresh_from_db()
    assert (outcome.before, outcome.after) == (Status.INITIATED, Status.COMPLETED)
    assert MpesaReceipt.objects.get().payment_id == payment.pk


def test_sweep_without_a_matching_callback_still_sends_to_review(client, settings):
    # given
    settings.MPESA_STK_LIFETIME_SECONDS = 0
    payment = timed_out_push()
    post(client, unknown_callback(payment, phone=254711000149))
    # when
    outcome = payment_query(payment_id=payment.pk, client=FakeDarajaClient())
    # then
    assert outcome.after == Status.NEEDS_REVIEW
    assert_unallocated_unknown()


def test_spooled_unknown_callback_replayed_twice_is_matched_once(settings, tmp_path):
    # given: the callback was spooled to disk twice (an outage, a resend)
    settings.CALLBACK_SPOOL_DIR = str(tmp_path / "spool")
    payment = timed_out_push()
    body = as_bytes(unknown_callback(payment))
    for _ in range(2):
        spool.spool_write(raw_body=body, source_ip="196.201.214.200", headers={})
    # when
    replay = payment_replay_spooled_callbacks()
    # then
    assert replay.replayed == 2
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    receipt = MpesaReceipt.objects.get()
    assert (receipt.payment_id, receipt.sightings.count()) == (payment.pk, 2)


class TestWithVerification:
    @pytest.fixture(autouse=True)
    def _verify(self, settings):
        settings.MPESA_VERIFY_CALLBACKS = True

    def test_verified_unknown_success_is_matched(
        self, client, fake_daraja, django_capture_on_commit_callbacks
    ):
        # given
        payment = timed_out_push()
        fake_daraja.query_result = query_answer("0")
        # when
        with django_capture_on_commit_callbacks(execute=True):
            post(client, unknown_callback(payment))
        # then
        payment.refresh_from_db()
        assert payment.status == Status.COMPLETED
        assert fake_daraja.queries == ["ws_CO_NEVERLEARNED0001"]
        assert MpesaReceipt.objects.get().payment_id == payment.pk

    def test_unknown_success_the_query_denies_records_no_money(
        self, client, fake_daraja, django_capture_on_commit_callbacks
    ):
        # given
        payment = timed_out_push()
        fake_daraja.query_result = query_answer("1032")
        # when
        with django_capture_on_commit_callbacks(execute=True):
            post(client, unknown_callback(payment))
        # then
        payment.refresh_from_db()
        assert payment.status == Status.INITIATED
        assert MpesaReceipt.objects.count() == 0
        notes = PaymentEvent.objects.filter(kind="note", payment=None)
        assert any("not confirmed by Daraja" in n.reason for n in notes)


def _deliver_at_once(*payloads: dict) -> list[Exception]:
    def deliver(payload: dict):
        def run():
            response = post(Client(), payload)
            assert response.status_code == 200

        return run

    return run_at_once(*[deliver(p) for p in payloads])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_unknown_callbacks_for_one_candidate_at_once_allocate_once():
    # given: one timed-out push, two different payments reported for it
    payment = timed_out_push()
    first = unknown_callback(
        payment, checkout_id="ws_CO_RACE0001", receipt="RCA0000001"
    )
    second = unknown_callback(
        payment, checkout_id="ws_CO_RACE0002", receipt="RCB0000002"
    )
    # when
    errors = _deliver_at_once(first, second)
    # then
    assert errors == []
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    allocated = MpesaReceipt.objects.filter(allocation=Allocation.ALLOCATED)
    assert [r.payment_id for r in allocated] == [payment.pk]
    loser = MpesaReceipt.objects.get(allocation=Allocation.UNALLOCATED)
    assert loser.unallocated_reason == Reason.UNKNOWN_PAYMENT
    assert payment.mpesa_receipt_number == allocated.get().receipt_number
    completions = PaymentEvent.objects.filter(payment=payment, to_status="completed")
    assert completions.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_unknown_callback_delivered_twice_at_once_is_one_allocation():
    # given
    payment = timed_out_push()
    body = unknown_callback(payment)
    # when
    errors = _deliver_at_once(body, body, body)
    # then
    assert errors == []
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    receipt = MpesaReceipt.objects.get()
    assert (receipt.allocation, receipt.payment_id) == (
        Allocation.ALLOCATED,
        payment.pk,
    )
    assert receipt.sightings.count() == 3
    completions = PaymentEvent.objects.filter(payment=payment, to_status="completed")
    assert completions.count() == 1
