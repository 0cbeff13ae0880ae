"""Issue 11, points 1-3: money never moves on a report that does not add up.

Each test posts a real callback body to the callback URL (or applies a
query answer from a fake Daraja client) and checks the payment and its
booking in the database.
"""

import pytest

from bookings.models import Booking
from payments.models import Payment, PaymentEvent
from payments.services.reconciliation import payment_query
from payments.tests.conftest import callback_url
from payments.tests.factories import PaymentFactory
from payments.tests.fakes import FakeDarajaClient, query_answer
from payments.tests.payloads import as_bytes, failure_callback, success_callback

pytestmark = pytest.mark.django_db
Status = Payment.Status
ReviewCode = Payment.ReviewCode


def post_callback(client, payload: dict):
    return client.generic(
        "POST", callback_url(), as_bytes(payload), content_type="application/json"
    )


def with_amount_item(payload: dict, item: dict | None) -> dict:
    """The payload with its Amount item replaced by ``item`` (None: removed)."""
    items = payload["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    others = [i for i in items if i["Name"] != "Amount"]
    payload["Body"]["stkCallback"]["CallbackMetadata"]["Item"] = (
        others if item is None else [item, *others]
    )
    return payload


def assert_in_review_unpaid(payment: Payment, code: str, reason_part: str) -> None:
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW
    assert payment.review_code == code
    event = PaymentEvent.objects.get(payment=payment, to_status=Status.NEEDS_REVIEW)
    assert reason_part in event.reason
    booking = Booking.objects.get(pk=payment.booking_id)
    assert booking.status == Booking.Status.PENDING_PAYMENT
    assert booking.payment_status == Booking.PaymentStatus.UNPAID


@pytest.mark.parametrize(
    ("amount_item", "code", "reason_part"),
    [
        (None, ReviewCode.AMOUNT_MISSING, "missing"),
        ({"Name": "Amount"}, ReviewCode.AMOUNT_MISSING, "missing"),
        ({"Name": "Amount", "Value": None}, ReviewCode.AMOUNT_MISSING, "missing"),
        ({"Name": "Amount", "Value": "3,000"}, ReviewCode.AMOUNT_INVALID, "'3,000'"),
        ({"Name": "Amount", "Value": "NaN"}, ReviewCode.AMOUNT_INVALID, "'NaN'"),
        (
            {"Name": "Amount", "Value": "Infinity"},
            ReviewCode.AMOUNT_INVALID,
            "'Infinity'",
        ),
        ({"Name": "Amount", "Value": ""}, ReviewCode.AMOUNT_INVALID, "not a number"),
        ({"Name": "Amount", "Value": True}, ReviewCode.AMOUNT_INVALID, "True"),
        ({"Name": "Amount", "Value": [3000]}, ReviewCode.AMOUNT_INVALID, "[3000]"),
        (
            {"Name": "Amount", "Value": "\uff13\uff10\uff10\uff10"},
            ReviewCode.AMOUNT_INVALID,
            "not a number",
        ),
        (
            {"Name": "Amount", "Value": 3000.5},
            ReviewCode.AMOUNT_INVALID,
            "not whole shillings",
        ),
        ({"Name": "Amount", "Value": 2000}, ReviewCode.AMOUNT_MISMATCH, "KES 2,000"),
        ({"Name": "Amount", "Value": 1e300}, ReviewCode.AMOUNT_MISMATCH, "differs"),
    ],
)
def test_success_callback_with_unusable_amount_goes_to_review(
    client, amount_item, code, reason_part
):
    # given
    payment = PaymentFactory()
    payload = with_amount_item(
        success_callback(payment.checkout_request_id), amount_item
    )
    # when
    response = post_callback(client, payload)
    # then
    assert response.status_code == 200
    assert_in_review_unpaid(payment, code, reason_part)


@pytest.mark.parametrize("amount", [3000, 3000.0, "3000", "3000.00"])
def test_success_callback_with_the_owed_amount_in_any_number_form_completes(
    client, amount
):
    # given
    payment = PaymentFactory()
    # when
    post_callback(client, success_callback(payment.checkout_request_id, amount=amount))
    # then
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert payment.paid_amount == 3000


def test_mismatched_amount_reason_names_both_amounts_in_kes(client):
    # given
    payment = PaymentFactory()
    # when
    post_callback(client, success_callback(payment.checkout_request_id, amount=1))
    # then
    event = PaymentEvent.objects.get(payment=payment, to_status=Status.NEEDS_REVIEW)
    assert event.reason == "paid amount KES 1 differs from the KES 3,000 asked"


@pytest.mark.parametrize(
    ("receipt", "code"),
    [
        ("", ReviewCode.RECEIPT_MISSING),
        (None, ReviewCode.RECEIPT_MISSING),
        ("A" * 40, ReviewCode.RECEIPT_INVALID),
        ("A" * 21, ReviewCode.RECEIPT_INVALID),
        ("NLJ7RT61S!", ReviewCode.RECEIPT_INVALID),
        ("nlj7rt61sv", ReviewCode.RECEIPT_INVALID),
        ("NLJ7 RT61S", ReviewCode.RECEIPT_INVALID),
    ],
)
def test_success_callback_with_unusable_receipt_goes_to_review(client, receipt, code):
    # given
    payment = PaymentFactory()
    # when
    response = post_callback(
        client, success_callback(payment.checkout_request_id, receipt=receipt)
    )
    # then
    assert response.status_code == 200
    assert_in_review_unpaid(payment, code, "receipt")
    payment.refresh_from_db()
    assert payment.mpesa_receipt_number is None


def test_twenty_character_receipt_is_accepted(client):
    # given
    payment = PaymentFactory()
    receipt = "ABCDEFGHIJ0123456789"
    # when
    post_callback(
        client, success_callback(payment.checkout_request_id, receipt=receipt)
    )
    # then
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert payment.mpesa_receipt_number == receipt


def test_over_long_receipt_found_by_a_sweep_goes_to_review_not_a_sweep_error(
    client, settings
):
    # given: a success callback with a 40-character receipt, stored but not
    # applied (verification on), then a query that says paid
    settings.MPESA_VERIFY_CALLBACKS = True
    payment = PaymentFactory()
    post_callback(
        client, success_callback(payment.checkout_request_id, receipt="X" * 40)
    )
    fake = FakeDarajaClient(query_result=query_answer("0"))
    # when
    first = payment_query(payment_id=payment.pk, client=fake)
    second = payment_query(payment_id=payment.pk, client=fake)
    # then
    assert first.answer == Status.NEEDS_REVIEW
    assert second.answer == "unchanged"
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW
    assert payment.review_code == ReviewCode.RECEIPT_INVALID


def test_query_success_with_stored_callback_of_wrong_amount_goes_to_review(
    client, settings
):
    # given
    settings.MPESA_VERIFY_CALLBACKS = True
    payment = PaymentFactory()
    post_callback(client, success_callback(payment.checkout_request_id, amount=10))
    # when
    payment_query(
        payment_id=payment.pk, client=FakeDarajaClient(query_result=query_answer("0"))
    )
    # then
    assert_in_review_unpaid(payment, ReviewCode.AMOUNT_MISMATCH, "KES 10")


def test_query_success_without_any_callback_completes(client):
    # given: the query answer speaks of our own push, for the amount asked
    payment = PaymentFactory()
    # when
    payment_query(
        payment_id=payment.pk, client=FakeDarajaClient(query_result=query_answer("0"))
    )
    # then
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED


def test_late_callback_with_bad_amount_sends_query_completed_payment_to_review(
    client,
):
    # given: completed by a query, no receipt yet
    payment = PaymentFactory(status=Status.COMPLETED, result_code="0")
    payload = with_amount_item(
        success_callback(payment.checkout_request_id),
        {"Name": "Amount", "Value": "NaN"},
    )
    # when
    post_callback(client, payload)
    # then
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW
    assert payment.review_code == ReviewCode.AMOUNT_INVALID


def test_failure_callback_for_completed_payment_goes_to_review(client):
    # given
    payment = PaymentFactory(completed=True)
    # when
    response = post_callback(client, failure_callback(payment.checkout_request_id))
    # then
    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW
    assert payment.review_code == ReviewCode.FAILURE_AFTER_COMPLETION
    assert payment.mpesa_receipt_number is not None  # the money stays recorded


def test_failure_query_answer_for_completed_payment_goes_to_review():
    # given
    payment = PaymentFactory(completed=True)
    # when
    outcome = payment_query(
        payment_id=payment.pk,
        client=FakeDarajaClient(query_result=query_answer("1032")),
    )
    # then
    assert outcome.after == Status.NEEDS_REVIEW
    payment.refresh_from_db()
    assert payment.review_code == ReviewCode.FAILURE_AFTER_COMPLETION


def test_duplicate_success_callback_leaves_completed_payment_alone(client):
    # given
    payment = PaymentFactory()
    body = success_callback(payment.checkout_request_id)
    post_callback(client, body)
    # when
    post_callback(client, body)
    # then
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert (
        PaymentEvent.objects.filter(payment=payment, kind="status_change").count() == 1
    )


@pytest.mark.parametrize("transaction_date", [10101000000, 99991231235959])
def test_implausible_transaction_date_is_not_kept_and_the_payment_settles(
    client, transaction_date
):
    # given: year 1 in Nairobi is before year 1 in UTC (unstorable)
    payment = PaymentFactory()
    payload = success_callback(
        payment.checkout_request_id, transaction_date=transaction_date
    )
    payload["Body"]["stkCallback"]["CallbackMetadata"]["Item"][3]["Value"] = str(
        transaction_date
    ).zfill(14)
    # when
    response = post_callback(client, payload)
    # then
    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert payment.transaction_date is None
