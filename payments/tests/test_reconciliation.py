from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import Booking
from payments.daraja.exceptions import DarajaRejected, DarajaUnavailable
from payments.exceptions import PaymentProviderUnavailable
from payments.models import Payment
from payments.services.batch import payment_reconcile_pending
from payments.services.reconciliation import payment_query
from payments.tests.conftest import callback_url
from payments.tests.factories import PaymentFactory
from payments.tests.fakes import query_answer
from payments.tests.payloads import as_bytes, success_callback

pytestmark = pytest.mark.django_db
Status = Payment.Status


def old_pending(**kwargs) -> Payment:
    past = timezone.now() - timedelta(minutes=10)
    payment = PaymentFactory(accepted_at=past, **kwargs)
    Payment.objects.filter(pk=payment.pk).update(created_at=past)
    return payment


def test_query_success_completes_and_confirms(fake_daraja):
    # given
    payment = PaymentFactory()
    fake_daraja.query_result = query_answer("0")
    # when
    outcome = payment_query(payment_id=payment.pk)
    # then
    payment.refresh_from_db()
    assert outcome.answer == "completed"
    assert payment.status == Status.COMPLETED
    assert payment.booking.status == Booking.Status.CONFIRMED


def test_query_success_takes_the_receipt_from_a_stored_callback(
    client, fake_daraja, settings
):
    # given: verification mode left the success callback unapplied
    settings.MPESA_VERIFY_CALLBACKS = True
    payment = PaymentFactory()
    client.generic(
        "POST",
        callback_url(),
        as_bytes(success_callback(payment.checkout_request_id)),
        content_type="application/json",
    )
    fake_daraja.query_result = query_answer("0")
    # when
    payment_query(payment_id=payment.pk)
    # then
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert payment.mpesa_receipt_number == "NLJ7RT61SV"


@pytest.mark.parametrize("code", ["1032", "1", "2001", "1037"])
def test_query_failure_fails_the_payment(fake_daraja, code):
    # given
    payment = PaymentFactory()
    fake_daraja.query_result = query_answer(code, "failed")
    # when
    payment_query(payment_id=payment.pk)
    # then
    payment.refresh_from_db()
    assert payment.status == Status.FAILED
    assert payment.result_code == code


def test_still_processing_leaves_a_young_payment_pending(fake_daraja):
    # given
    payment = PaymentFactory()
    # when
    outcome = payment_query(payment_id=payment.pk)
    # then
    payment.refresh_from_db()
    assert outcome.answer == "still_pending"
    assert payment.status == Status.PENDING


def test_still_processing_past_the_stk_lifetime_expires(fake_daraja):
    # given
    payment = old_pending()
    # when
    outcome = payment_query(payment_id=payment.pk)
    # then
    payment.refresh_from_db()
    assert outcome.answer == "expired"
    assert payment.status == Status.EXPIRED


def test_unknown_transaction_past_lifetime_expires_not_fails(fake_daraja):
    # given
    payment = old_pending()
    fake_daraja.query_result = DarajaRejected(
        error_code="500.001.1001",
        error_message="This transaction does not exist",
        http_status=500,
        raw={},
    )
    # when
    payment_query(payment_id=payment.pk)
    # then
    payment.refresh_from_db()
    assert payment.status == Status.EXPIRED


def test_daraja_unavailable_raises_and_changes_nothing(fake_daraja):
    # given
    payment = old_pending()
    fake_daraja.query_result = DarajaUnavailable("503")
    # when: the service raises what the task retries on (issue 12, point 3)
    with pytest.raises(PaymentProviderUnavailable, match="503"):
        payment_query(payment_id=payment.pk)
    # then
    payment.refresh_from_db()
    assert payment.status == Status.PENDING
    assert payment.last_queried_at is not None


def test_daraja_unavailable_is_an_error_in_a_batch(fake_daraja):
    # given
    old_pending()
    fake_daraja.query_result = DarajaUnavailable("503")
    # when
    summary = payment_reconcile_pending(older_than=60, concurrency=1)
    # then
    assert summary.as_dict()["errors"] == 1
    assert summary.outcomes[0].detail == "503"


def test_stale_failure_answer_never_undoes_a_completed_payment(fake_daraja):
    # given
    payment = PaymentFactory(completed=True)
    receipt = payment.mpesa_receipt_number
    fake_daraja.query_result = query_answer("1032")
    # when
    payment_query(payment_id=payment.pk)
    # then: to review (issue 11, point 3), the money still recorded
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW
    assert payment.mpesa_receipt_number == receipt
    assert payment.result_code == "0"


def test_dry_run_changes_nothing(fake_daraja):
    # given
    payment = old_pending()
    fake_daraja.query_result = query_answer("0")
    # when
    summary = payment_reconcile_pending(older_than=60, dry_run=True, concurrency=1)
    # then
    payment.refresh_from_db()
    assert summary.as_dict()["completed"] == 1
    assert payment.status == Status.PENDING
    assert not payment.events.exists()


def test_unknown_outcome_push_goes_to_review_after_lifetime_not_expired(fake_daraja):
    # given: the push timed out, so no CheckoutRequestID: it may have been paid
    payment = old_pending(initiated=True)
    # when
    summary = payment_reconcile_pending(older_than=60, concurrency=1)
    # then
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW
    assert summary.as_dict()["needs_review"] == 1
    assert fake_daraja.queries == []


def test_unknown_outcome_push_waits_within_its_lifetime(fake_daraja):
    # given
    payment = PaymentFactory(initiated=True)
    # when
    payment_reconcile_pending(older_than=0, concurrency=1)
    # then
    payment.refresh_from_db()
    assert payment.status == Status.INITIATED


def test_batch_goes_on_past_a_payment_that_fails(fake_daraja, monkeypatch):
    # given
    broken, healthy = (
        old_pending(),
        old_pending(booking__start=timezone.now() + timedelta(days=2)),
    )
    fake_daraja.query_result = query_answer("0")

    def explode_for_broken(checkout_request_id):
        if checkout_request_id == broken.checkout_request_id:
            raise RuntimeError("boom")

    fake_daraja.on_query = explode_for_broken
    # when
    summary = payment_reconcile_pending(older_than=60, concurrency=1)
    # then
    healthy.refresh_from_db()
    assert summary.as_dict()["errors"] == 1
    assert healthy.status == Status.COMPLETED


def test_a_claimed_payment_is_not_queried_again_by_a_second_run(fake_daraja):
    # given
    old_pending()
    payment_reconcile_pending(older_than=60, concurrency=1)
    # when
    second = payment_reconcile_pending(older_than=60, concurrency=1)
    # then
    assert second.examined == 0
    assert len(fake_daraja.queries) == 1


def test_a_payment_still_processing_is_queried_again_once_its_claim_lapses(
    fake_daraja, settings
):
    # given: a sweep found it still processing; the claim window has passed
    settings.MPESA_QUERY_CLAIM_SECONDS = 2
    settings.MPESA_STK_LIFETIME_SECONDS = 180
    payment = PaymentFactory(accepted_at=timezone.now() - timedelta(seconds=100))
    Payment.objects.filter(pk=payment.pk).update(created_at=payment.accepted_at)
    first = payment_reconcile_pending(older_than=60, concurrency=1)
    lapsed = timezone.now() - timedelta(seconds=3)
    Payment.objects.filter(pk=payment.pk).update(last_queried_at=lapsed)
    # when
    second = payment_reconcile_pending(older_than=60, concurrency=1)
    # then
    assert first.as_dict()["still_pending"] == 1
    assert second.examined == 1
    assert len(fake_daraja.queries) == 2
