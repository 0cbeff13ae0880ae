from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.tests.factories import BookingFactory, UserFactory
from payments.daraja.exceptions import (
    DarajaOutcomeUnknown,
    DarajaRejected,
    DarajaUnavailable,
)
from payments.models import Payment, PaymentEvent
from payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db
URL = "/api/payment/mpesa/stk-push"
Status = Payment.Status


@pytest.fixture
def booking():
    return BookingFactory(amount=3000)


@pytest.fixture
def client_of(api_client):
    def _login(user):
        api_client.force_authenticate(user)
        return api_client

    return _login


def push(client, booking, **extra):
    body = {"phone_number": "0708 374 149", "booking_id": booking.pk, **extra}
    headers = extra.pop("headers", {}) if "headers" in extra else {}
    return client.post(URL, body, format="json", headers=headers)


def test_stk_push_returns_201_with_daraja_ids_and_server_amount(
    client_of, booking, fake_daraja
):
    # when
    response = push(client_of(booking.client), booking)
    # then
    assert response.status_code == 201
    body = response.json()
    assert body["CheckoutRequestID"].startswith("ws_CO_FAKE")
    assert body["ResponseCode"] == "0"
    assert body["status"] == "pending"
    payment = Payment.objects.get(pk=body["payment_id"])
    assert payment.amount == 3000
    assert payment.phone_number == "254708374149"
    assert fake_daraja.pushes[0]["amount"] == 3000
    assert fake_daraja.pushes[0]["phone_number"] == "254708374149"


def test_stk_push_records_the_exchange_and_each_status_change(
    client_of, booking, fake_daraja
):
    # when
    response = push(client_of(booking.client), booking)
    # then
    payment = Payment.objects.get(pk=response.json()["payment_id"])
    kinds = list(payment.events.order_by("id").values_list("kind", "to_status"))
    assert kinds == [
        (PaymentEvent.Kind.STATUS_CHANGE, "initiated"),
        (PaymentEvent.Kind.DARAJA_EXCHANGE, ""),
        (PaymentEvent.Kind.STATUS_CHANGE, "pending"),
    ]


def test_stk_push_extends_the_booking_hold_over_the_prompt(
    client_of, booking, fake_daraja, settings
):
    # given
    settings.MPESA_STK_LIFETIME_SECONDS = 3600
    # when
    push(client_of(booking.client), booking)
    # then
    booking.refresh_from_db()
    assert booking.expires_at > timezone.now() + timedelta(minutes=55)


def test_stk_push_refuses_a_client_amount_that_differs(client_of, booking, fake_daraja):
    # when
    response = push(client_of(booking.client), booking, amount=1)
    # then
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "amount_mismatch"
    assert fake_daraja.pushes == []
    assert not Payment.objects.exists()


def test_stk_push_accepts_a_client_amount_that_matches(client_of, booking, fake_daraja):
    # when
    response = push(client_of(booking.client), booking, amount=3000)
    # then
    assert response.status_code == 201


def test_stk_push_for_another_clients_booking_is_404(client_of, booking, fake_daraja):
    # when
    response = push(client_of(UserFactory()), booking)
    # then
    assert response.status_code == 404
    assert fake_daraja.pushes == []


def test_stk_push_requires_authentication(api_client, booking, fake_daraja):
    # when
    response = push(api_client, booking)
    # then
    assert response.status_code in (401, 403)
    assert fake_daraja.pushes == []


@pytest.mark.parametrize("phone", ["0208374149", "12345", "2557083741490", "phone"])
def test_stk_push_refuses_a_bad_phone_with_a_field_error(
    client_of, booking, fake_daraja, phone
):
    # when
    response = push(client_of(booking.client), booking, phone_number=phone)
    # then
    assert response.status_code == 400
    assert "phone_number" in response.json()["error"]["fields"]
    assert fake_daraja.pushes == []


def test_stk_push_while_one_is_pending_returns_409_with_its_checkout_id(
    client_of, booking, fake_daraja
):
    # given
    open_payment = PaymentFactory(booking=booking)
    # when
    response = push(client_of(booking.client), booking)
    # then
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "payment_in_progress"
    assert error["checkout_request_id"] == open_payment.checkout_request_id
    assert fake_daraja.pushes == []


def test_stk_push_waits_30_seconds_after_a_failure(
    client_of, booking, fake_daraja, time_machine
):
    # given
    time_machine.move_to(timezone.now(), tick=False)
    PaymentFactory(booking=booking, failed=True)
    client = client_of(booking.client)
    # when
    too_soon = push(client, booking)
    time_machine.shift(timedelta(seconds=31))
    later = push(client, booking)
    # then
    assert too_soon.status_code == 409
    assert too_soon.json()["error"]["code"] == "retry_too_soon"
    assert int(too_soon["Retry-After"]) <= 30
    assert later.status_code == 201


def test_stk_push_with_the_same_idempotency_key_replays_the_first_answer(
    client_of, booking, fake_daraja
):
    # given
    client = client_of(booking.client)
    headers = {"Idempotency-Key": "spa-attempt-1"}
    body = {"phone_number": "254708374149", "booking_id": booking.pk}
    # when
    first = client.post(URL, body, format="json", headers=headers)
    second = client.post(URL, body, format="json", headers=headers)
    # then
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert len(fake_daraja.pushes) == 1


def test_stk_push_stores_its_answer_in_the_201_bodys_own_keys(
    client_of, booking, fake_daraja
):
    # given/when: a push with a key
    client = client_of(booking.client)
    first = client.post(
        URL,
        {"phone_number": "254708374149", "booking_id": booking.pk},
        format="json",
        headers={"Idempotency-Key": "spa-attempt-stored"},
    )
    # then: what is stored is the answer itself (a previous release, which
    # replays the stored body as it is, answers the same)
    payment = Payment.objects.get(pk=first.json()["payment_id"])
    assert payment.idempotent_status_code == 201
    assert payment.idempotent_response == first.json()


def test_stk_push_replays_a_refused_push_as_the_same_error(
    client_of, booking, fake_daraja
):
    # given: Daraja refused the first push with this key
    fake_daraja.push_result = DarajaRejected(
        "400.002.02", "Bad Request - Invalid PhoneNumber", http_status=400
    )
    client = client_of(booking.client)
    headers = {"Idempotency-Key": "spa-attempt-refused"}
    body = {"phone_number": "254708374149", "booking_id": booking.pk}
    # when
    first = client.post(URL, body, format="json", headers=headers)
    second = client.post(URL, body, format="json", headers=headers)
    # then: the same status and body, marked replayed, Daraja asked once
    assert first.status_code == second.status_code == 502
    assert first.json() == second.json()
    assert second.json()["error"]["code"] == "provider_rejected"
    assert second["Idempotent-Replayed"] == "true"
    assert len(fake_daraja.pushes) == 1


def test_stk_push_idempotency_key_reused_for_another_booking_is_422(
    client_of, booking, fake_daraja
):
    # given
    other = BookingFactory(
        client=booking.client, start=booking.start + timedelta(hours=2)
    )
    client = client_of(booking.client)
    headers = {"Idempotency-Key": "k1"}
    client.post(
        URL,
        {"phone_number": "0708374149", "booking_id": booking.pk},
        format="json",
        headers=headers,
    )
    # when
    response = client.post(
        URL,
        {"phone_number": "0708374149", "booking_id": other.pk},
        format="json",
        headers=headers,
    )
    # then
    assert response.status_code == 422


def test_stk_push_refused_by_daraja_is_502_and_the_payment_failed(
    client_of, booking, fake_daraja
):
    # given
    fake_daraja.push_result = DarajaRejected(
        error_code="400.002.02",
        error_message="Bad Request - Invalid PhoneNumber",
        http_status=400,
        raw={},
    )
    # when
    response = push(client_of(booking.client), booking)
    # then
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["provider_code"] == "400.002.02"
    payment = Payment.objects.get(pk=error["payment_id"])
    assert payment.status == Status.FAILED
    assert payment.result_code == "400.002.02"


def test_stk_push_subscriber_locked_says_a_prompt_is_open(
    client_of, booking, fake_daraja
):
    # given
    fake_daraja.push_result = DarajaRejected(
        error_code="500.001.1001",
        error_message="Unable to lock subscriber, a transaction is already in process "
        "for the current subscriber",
        http_status=500,
        raw={},
    )
    # when
    response = push(client_of(booking.client), booking)
    # then
    payment = Payment.objects.get()
    assert response.status_code == 502
    assert "prompt is open" in payment.failure_reason


def test_stk_push_with_daraja_unreachable_is_503_and_nothing_charged(
    client_of, booking, fake_daraja
):
    # given
    fake_daraja.push_result = DarajaUnavailable("connection refused")
    # when
    response = push(client_of(booking.client), booking)
    # then
    assert response.status_code == 503
    payment = Payment.objects.get()
    assert payment.status == Status.FAILED
    assert payment.result_code == "unavailable"


def test_stk_push_with_unknown_outcome_stays_initiated_and_is_not_resent(
    client_of, booking, fake_daraja
):
    # given
    fake_daraja.push_result = DarajaOutcomeUnknown("read timed out")
    client = client_of(booking.client)
    # when
    first = push(client, booking)
    second = push(client, booking)
    # then
    assert first.status_code == 503
    assert Payment.objects.get().status == Status.INITIATED
    assert second.status_code == 409
    assert len(fake_daraja.pushes) == 1


def test_stk_push_for_a_paid_booking_is_refused(client_of, fake_daraja):
    # given
    booking = BookingFactory(confirmed=True)
    # when
    response = push(client_of(booking.client), booking)
    # then
    assert response.status_code == 409
    assert fake_daraja.pushes == []


def test_stk_push_is_throttled_per_phone(client_of, fake_daraja, settings):
    # given: five bookings by five users, all paying from one phone
    bookings = [
        BookingFactory(start=BookingFactory.start.function() + timedelta(hours=i))
        for i in range(6)
    ]
    # when
    codes = [push(client_of(b.client), b).status_code for b in bookings]
    # then
    assert codes[:5] == [201] * 5
    assert codes[5] == 429
    throttled = push(client_of(bookings[5].client), bookings[5])
    assert int(throttled["Retry-After"]) > 0
    assert throttled.json()["error"]["code"] == "throttled"


def test_stk_push_refused_before_sending_fails_cleanly(client_of, booking, fake_daraja):
    # given: a configuration problem the client detects before any HTTP call
    from payments.daraja.exceptions import DarajaValidationError

    fake_daraja.push_result = DarajaValidationError("callback_url", "not https")
    # when
    response = push(client_of(booking.client), booking)
    # then
    assert response.status_code == 503
    assert Payment.objects.get().status == Status.FAILED


def test_stk_push_phone_throttle_ignores_a_strangers_refused_pushes(
    client_of, booking, fake_daraja
):
    # given: a stranger pushes ten times to the victim's booking and phone
    stranger = client_of(UserFactory())
    codes = [push(stranger, booking).status_code for _ in range(10)]
    # when: the victim pays with that phone
    response = push(client_of(booking.client), booking)
    # then
    assert codes == [404] * 10
    assert response.status_code == 201


def test_stk_push_phone_throttle_ignores_invalid_pushes(
    client_of, booking, fake_daraja
):
    # given: ten pushes with the right phone but an amount that is not owed
    owner = client_of(booking.client)
    codes = [push(owner, booking, amount=1).status_code for _ in range(6)]
    # when
    response = push(owner, booking)
    # then
    assert codes == [400] * 6
    assert response.status_code == 201


def test_stk_push_with_an_over_long_idempotency_key_is_400(
    client_of, booking, fake_daraja
):
    # when
    response = push(
        client_of(booking.client), booking, headers={"Idempotency-Key": "k" * 129}
    )
    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "Idempotency-Key" in error["fields"]
    assert fake_daraja.pushes == []


def test_stk_push_accepts_a_128_character_idempotency_key(
    client_of, booking, fake_daraja
):
    # when
    response = push(
        client_of(booking.client), booking, headers={"Idempotency-Key": "k" * 128}
    )
    # then
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("callback_url", "environment"),
    [
        ("", "sandbox"),
        # the seed guide's URL: a filtered word and no secret
        ("https://api.hakiyetu.co.ke/api/payment/mpesa/callback", "sandbox"),
        ("https://api.hakiyetu.co.ke/api/payment/callback/another-token", "sandbox"),
        ("http://api.hakiyetu.co.ke/api/payment/callback/{secret}", "production"),
    ],
)
def test_stk_push_is_refused_with_503_while_the_callback_url_is_unusable(
    client_of, booking, fake_daraja, settings, callback_url, environment
):
    # given: a callback URL whose callbacks would never reach us
    settings.MPESA_CALLBACK_URL = callback_url.format(
        secret=settings.MPESA_CALLBACK_SECRET
    )
    settings.MPESA_ENVIRONMENT = environment
    # when
    response = push(client_of(booking.client), booking)
    # then: a clear 503, nothing stored, Daraja never called
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "callback_url_unusable"
    assert settings.MPESA_CALLBACK_SECRET not in response.content.decode()
    assert not Payment.objects.exists()
    assert fake_daraja.pushes == []


def test_stk_push_amount_mismatch_names_the_price_in_kes(
    client_of, booking, fake_daraja
):
    # when
    response = push(client_of(booking.client), booking, amount=1)
    # then
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "This booking costs KES 3,000; you sent KES 1."
    )


def test_stk_push_sends_the_bookings_reference_as_account_reference(
    client_of, booking, fake_daraja
):
    # when: the client sends no account_reference
    response = push(client_of(booking.client), booking)
    # then
    assert response.status_code == 201
    assert fake_daraja.pushes[0]["account_reference"] == booking.reference


@pytest.mark.parametrize("sent", ["HakiYetu", "NOT-A-VALID-REFERENCE!"])
def test_stk_push_ignores_a_client_sent_account_reference(
    client_of, booking, fake_daraja, sent
):
    # when: what the seed guide's SPA sends, or something Daraja would refuse
    response = push(client_of(booking.client), booking, account_reference=sent)
    # then: the booking's reference, so a Paybill confirmation names it
    assert response.status_code == 201
    assert fake_daraja.pushes[0]["account_reference"] == booking.reference
