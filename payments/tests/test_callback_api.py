import json
from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import Booking
from bookings.tests.factories import BookingFactory
from payments.models import Payment, PaymentEvent
from payments.tests.conftest import callback_url
from payments.tests.factories import PaymentFactory
from payments.tests.payloads import as_bytes, failure_callback, success_callback

pytestmark = pytest.mark.django_db
Status = Payment.Status
ACK = {"ResultCode": 0, "ResultDesc": "Accepted"}


def post_callback(client, payload, *, url=None, **extra):
    body = payload if isinstance(payload, bytes) else as_bytes(payload)
    return client.generic(
        "POST", url or callback_url(), body, content_type="application/json", **extra
    )


def test_success_callback_completes_payment_and_confirms_booking(client):
    # given
    payment = PaymentFactory()
    # when
    response = post_callback(client, success_callback(payment.checkout_request_id))
    # then
    assert response.status_code == 200
    assert response.json() == ACK
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert payment.mpesa_receipt_number == "NLJ7RT61SV"
    assert payment.paid_amount == 3000
    assert payment.paid_phone_number == "254708374149"
    assert (
        timezone.localtime(payment.transaction_date).strftime("%Y%m%d%H%M%S")
        == "20261127102115"
    )
    payment.booking.refresh_from_db()
    assert payment.booking.status == Booking.Status.CONFIRMED
    assert payment.booking.payment_status == Booking.PaymentStatus.PAID


def test_success_callback_is_stored_raw_with_source_ip(client):
    # given
    payment = PaymentFactory()
    body = as_bytes(success_callback(payment.checkout_request_id))
    # when
    post_callback(client, body, REMOTE_ADDR="196.201.214.200")
    # then
    event = PaymentEvent.objects.get(kind=PaymentEvent.Kind.CALLBACK)
    assert event.raw_body == body.decode()
    assert event.payment_id == payment.pk
    assert event.source_ip == "196.201.214.200"


def test_duplicate_success_callback_changes_nothing_and_is_recorded(client):
    # given
    payment = PaymentFactory()
    payload = success_callback(payment.checkout_request_id)
    post_callback(client, payload)
    # when
    response = post_callback(client, payload)
    # then
    assert response.json() == ACK
    assert payment.events.filter(kind=PaymentEvent.Kind.CALLBACK).count() == 2
    assert payment.events.filter(to_status=Status.COMPLETED).count() == 1


def test_items_in_any_order_parse_the_same(client):
    # given
    payment = PaymentFactory()
    # when
    post_callback(
        client, success_callback(payment.checkout_request_id, reverse_items=True)
    )
    # then
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert payment.mpesa_receipt_number == "NLJ7RT61SV"


@pytest.mark.parametrize(
    ("code", "kind_text"),
    [
        (1032, "cancelled"),
        (1, "balance"),
        (2001, "PIN"),
        (1037, "could not be reached"),
        ("1019", "expired"),
    ],
)
def test_failure_callback_fails_payment_with_a_human_reason(client, code, kind_text):
    # given
    payment = PaymentFactory()
    # when
    post_callback(client, failure_callback(payment.checkout_request_id, code=code))
    # then
    payment.refresh_from_db()
    assert payment.status == Status.FAILED
    assert payment.result_code == str(code)
    assert kind_text in payment.failure_reason
    payment.booking.refresh_from_db()
    assert payment.booking.status == Booking.Status.PENDING_PAYMENT


def test_string_result_code_is_a_failure(client):
    # given
    payment = PaymentFactory()
    # when
    post_callback(
        client,
        failure_callback(
            payment.checkout_request_id,
            code="SFC_IC0003",
            desc="The operator does not exist",
        ),
    )
    # then
    payment.refresh_from_db()
    assert payment.status == Status.FAILED
    assert payment.result_code == "SFC_IC0003"


def test_unknown_checkout_id_is_kept_and_acknowledged(client):
    # when
    response = post_callback(client, success_callback("ws_CO_NOBODY_KNOWS"))
    # then
    assert response.json() == ACK
    event = PaymentEvent.objects.get(kind=PaymentEvent.Kind.CALLBACK)
    assert event.payment is None
    assert event.checkout_request_id == "ws_CO_NOBODY_KNOWS"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b"null",
        b'{"Body": {}}',
        b'{"Body": {"stkCallback": "x"}}',
        b"{" * 5000,
    ],
)
def test_malformed_callback_is_400_and_still_stored(client, body):
    # when
    response = post_callback(client, body)
    # then
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_callback"
    event = PaymentEvent.objects.get(kind=PaymentEvent.Kind.CALLBACK)
    assert event.error.startswith("malformed")


def test_callback_over_64_kib_is_413(client):
    # given
    payment = PaymentFactory()
    payload = success_callback(payment.checkout_request_id)
    payload["padding"] = "x" * 70_000
    # when
    response = post_callback(client, payload)
    # then
    assert response.status_code == 413
    payment.refresh_from_db()
    assert payment.status == Status.PENDING


def test_callback_with_wrong_secret_is_404_and_changes_nothing(client):
    # given
    payment = PaymentFactory()
    # when
    response = post_callback(
        client, success_callback(payment.checkout_request_id), url=callback_url("wrong")
    )
    # then
    assert response.status_code == 404
    payment.refresh_from_db()
    assert payment.status == Status.PENDING
    assert not PaymentEvent.objects.filter(kind=PaymentEvent.Kind.CALLBACK).exists()


def test_callback_from_outside_the_allowlist_is_refused(client, settings):
    # given
    settings.MPESA_CALLBACK_ALLOWED_IPS = ["196.201.212.0/24"]
    payment = PaymentFactory()
    payload = success_callback(payment.checkout_request_id)
    # when
    outside = post_callback(client, payload, REMOTE_ADDR="203.0.113.9")
    inside = post_callback(client, payload, REMOTE_ADDR="196.201.212.69")
    # then
    assert outside.status_code == 403
    assert inside.status_code == 200
    assert PaymentEvent.objects.filter(kind=PaymentEvent.Kind.CALLBACK).count() == 1


def test_callback_allowlist_uses_forwarded_for_behind_trusted_proxies(client, settings):
    # given: one proxy; the spoofed left-most address must be ignored
    settings.MPESA_CALLBACK_ALLOWED_IPS = ["196.201.214.200"]
    settings.MPESA_CALLBACK_TRUSTED_PROXIES = 1
    settings.MPESA_CALLBACK_PROXY_IPS = ["10.0.0.0/8"]
    payment = PaymentFactory()
    payload = success_callback(payment.checkout_request_id)
    # when
    spoofed = post_callback(
        client,
        payload,
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="196.201.214.200, 203.0.113.9",
    )
    genuine = post_callback(
        client, payload, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="196.201.214.200"
    )
    # then
    assert spoofed.status_code == 403
    assert genuine.status_code == 200


def test_a_direct_peer_claiming_a_safaricom_address_is_judged_by_its_own(
    client, settings
):
    # given: a proxy is configured, but this peer is not it
    settings.MPESA_CALLBACK_ALLOWED_IPS = ["196.201.214.200"]
    settings.MPESA_CALLBACK_TRUSTED_PROXIES = 1
    settings.MPESA_CALLBACK_PROXY_IPS = ["10.0.0.0/8"]
    payment = PaymentFactory()
    # when: it connects directly and forges X-Forwarded-For
    response = post_callback(
        client,
        success_callback(payment.checkout_request_id),
        REMOTE_ADDR="203.0.113.9",
        HTTP_X_FORWARDED_FOR="196.201.214.200",
    )
    # then
    assert response.status_code == 403
    payment.refresh_from_db()
    assert payment.status == Status.PENDING


def test_forwarded_for_is_ignored_until_the_proxy_addresses_are_configured(
    client, settings
):
    # given: MPESA_CALLBACK_PROXY_IPS unset
    settings.MPESA_CALLBACK_ALLOWED_IPS = ["196.201.214.200"]
    settings.MPESA_CALLBACK_TRUSTED_PROXIES = 1
    payment = PaymentFactory()
    # when
    response = post_callback(
        client,
        success_callback(payment.checkout_request_id),
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="196.201.214.200",
    )
    # then
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("forwarded_for", "status_code"),
    [
        # client, then what the outer proxy 10.0.0.2 saw
        ("196.201.214.200, 10.0.0.2", 200),
        # the outer hop is not one of ours: it is the caller, whatever it says
        ("196.201.214.200, 203.0.113.9", 403),
        # a forged left-most entry is never reached
        ("196.201.214.200, 203.0.113.9, 10.0.0.2", 403),
    ],
)
def test_forwarded_for_is_walked_back_through_trusted_proxies_only(
    client, settings, forwarded_for, status_code
):
    # given: two proxies of ours in front of the app
    settings.MPESA_CALLBACK_ALLOWED_IPS = ["196.201.214.200"]
    settings.MPESA_CALLBACK_TRUSTED_PROXIES = 2
    settings.MPESA_CALLBACK_PROXY_IPS = ["10.0.0.0/24"]
    payment = PaymentFactory()
    # when
    response = post_callback(
        client,
        success_callback(payment.checkout_request_id),
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )
    # then
    assert response.status_code == status_code


def test_amount_mismatch_goes_to_review_and_does_not_confirm(client):
    # given
    payment = PaymentFactory()
    # when
    post_callback(client, success_callback(payment.checkout_request_id, amount=1.0))
    # then
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW
    assert payment.paid_amount == 1
    assert payment.mpesa_receipt_number == "NLJ7RT61SV"
    payment.booking.refresh_from_db()
    assert payment.booking.status == Booking.Status.PENDING_PAYMENT


@pytest.mark.parametrize("trait", ["failed", "expired"])
def test_late_success_after_failure_or_expiry_still_records_money(client, trait):
    # given
    payment = PaymentFactory(**{trait: True})
    # when
    post_callback(client, success_callback(payment.checkout_request_id))
    # then
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert payment.mpesa_receipt_number == "NLJ7RT61SV"


def test_late_failure_after_completion_is_acknowledged_and_reviewed(client):
    # given
    payment = PaymentFactory(completed=True)
    # when
    response = post_callback(client, failure_callback(payment.checkout_request_id))
    # then: one of the two reports is not from Daraja (issue 11, point 3)
    assert response.json() == ACK
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW


def test_success_for_expired_booking_with_slot_taken_is_reviewed_and_refund_due(client):
    # given: the hold expired and someone else booked the slot meanwhile
    booking = BookingFactory(expired=True)
    BookingFactory(advocate=booking.advocate, start=booking.start)
    payment = PaymentFactory(booking=booking, expired=True)
    # when
    post_callback(client, success_callback(payment.checkout_request_id))
    # then
    payment.refresh_from_db()
    booking.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW
    assert booking.payment_status == Booking.PaymentStatus.REFUND_DUE


def test_success_for_expired_booking_with_slot_free_confirms_it_again(client):
    # given
    booking = BookingFactory(expired=True)
    payment = PaymentFactory(booking=booking, expired=True)
    # when
    post_callback(client, success_callback(payment.checkout_request_id))
    # then
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.payment_status == Booking.PaymentStatus.PAID


def test_second_payment_for_a_paid_booking_goes_to_review(client):
    # given
    booking = BookingFactory(confirmed=True)
    PaymentFactory(booking=booking, completed=True)
    extra = PaymentFactory(booking=booking, failed=True)
    # when
    post_callback(
        client, success_callback(extra.checkout_request_id, receipt="NLJ0000EXTRA")
    )
    # then
    extra.refresh_from_db()
    assert extra.status == Status.NEEDS_REVIEW
    assert "already paid" in extra.events.latest("id").reason


def test_receipt_seen_on_another_payment_goes_to_review(client):
    # given
    PaymentFactory(completed=True, mpesa_receipt_number="NLJ7RT61SV")
    payment = PaymentFactory(
        booking=BookingFactory(start=timezone.now() + timedelta(days=3))
    )
    # when
    post_callback(client, success_callback(payment.checkout_request_id))
    # then
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW
    assert payment.mpesa_receipt_number is None


def test_phone_number_may_arrive_masked(client):
    # given
    payment = PaymentFactory()
    # when
    post_callback(
        client, success_callback(payment.checkout_request_id, phone="2547 ***** 149")
    )
    # then
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert payment.paid_phone_number == "2547 ***** 149"


def test_callback_is_csrf_exempt_for_daraja(client):
    # given
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    payment = PaymentFactory()
    # when
    response = post_callback(strict, success_callback(payment.checkout_request_id))
    # then
    assert response.status_code == 200


def test_arbitrary_json_never_raises_past_the_view(client):
    # given
    bodies = [
        {"Body": {"stkCallback": {"CheckoutRequestID": ["x"]}}},
        {"Body": None},
        12,
        "s",
        {"Body": {"stkCallback": {"CheckoutRequestID": "a", "ResultCode": {"x": 1}}}},
    ]
    # when
    codes = [post_callback(client, json.dumps(b).encode()).status_code for b in bodies]
    # then
    assert all(code in (200, 400) for code in codes)


def test_success_callback_costs_at_most_seven_statements(client):
    # given
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    payment = PaymentFactory()
    body = as_bytes(success_callback(payment.checkout_request_id))
    # when
    with CaptureQueriesContext(connection) as queries:
        post_callback(client, body)
    # then: BEGIN/COMMIT (savepoints here, inside the test's transaction) aside
    statements = [
        q["sql"]
        for q in queries.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]
    # Five for the callback itself (raw event, locking read, booking
    # confirm, payment, status event) and two for its receipt in the ledger
    # (issue 13: the receipt row and its sighting).
    assert len(statements) <= 7, statements
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert payment.receipts.count() == 1


def test_success_callback_takes_one_savepoint_besides_its_transaction(client):
    # given
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    payment = PaymentFactory()
    body = as_bytes(success_callback(payment.checkout_request_id))
    # when
    with CaptureQueriesContext(connection) as queries:
        post_callback(client, body)
    # then: inside the test's transaction the payment's own transaction is
    # a savepoint too; the other is _settle_success's (its IntegrityError is
    # recovered). The ledger's first sighting needs none (ON CONFLICT).
    savepoints = [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith("SAVEPOINT")
    ]
    assert len(savepoints) == 2, savepoints
    assert payment.receipts.count() == 1


def test_success_callback_without_a_receipt_goes_to_review(client):
    # given
    payment = PaymentFactory()
    payload = success_callback(payment.checkout_request_id)
    items = payload["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    items[:] = [i for i in items if i["Name"] != "MpesaReceiptNumber"]
    # when
    post_callback(client, payload)
    # then
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW
    payment.booking.refresh_from_db()
    assert payment.booking.status == Booking.Status.PENDING_PAYMENT


def test_callback_with_nul_in_checkout_id_is_a_stored_400(client):
    # when
    response = post_callback(
        client, b'{"Body": {"stkCallback": {"CheckoutRequestID": "ws_CO_\\u0000"}}}'
    )
    # then
    assert response.status_code == 400
    assert PaymentEvent.objects.filter(kind=PaymentEvent.Kind.CALLBACK).count() == 1


def test_late_callback_with_another_amount_sends_a_query_completed_payment_to_review(
    client,
):
    # given: completed by a query, which carries no receipt and no amount
    payment = PaymentFactory(status=Status.COMPLETED, result_code="0")
    # when
    post_callback(client, success_callback(payment.checkout_request_id, amount=1.0))
    # then
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW
    assert payment.paid_amount == 1
    assert payment.mpesa_receipt_number == "NLJ7RT61SV"


def test_late_callback_fills_the_receipt_of_a_query_completed_payment(client):
    # given
    payment = PaymentFactory(status=Status.COMPLETED, result_code="0")
    # when
    post_callback(client, success_callback(payment.checkout_request_id))
    # then
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert payment.mpesa_receipt_number == "NLJ7RT61SV"
