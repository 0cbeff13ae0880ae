"""The checkout flows through the HTTP API alone, against real processes.

Same three flows as the browser tests, without a browser: book, push,
poll the status endpoint until final. Everything that settles a payment
(callbacks, beat's periodic reconciliation) happens in the started processes.
"""

import time

import pytest
import requests

pytestmark = pytest.mark.e2e

SUCCESS_PHONE = "254708374149"
CANCEL_PHONE = "254711000000"
LOST_CALLBACK_PHONE = "254722000002"
QUERY_PATH = "/mpesa/stkpushquery/v1/query"


def _book(api: requests.Session, base: str, day: str) -> dict:
    """Book the first free 30-minute video slot of the first advocate."""
    advocate = api.get(f"{base}/api/advocates/", timeout=10).json()["results"][0]
    offer = next(
        o
        for o in advocate["consultation_types"]
        if o["code"] == "video" and o["duration"] == 30
    )
    slots = api.get(
        f"{base}/api/advocates/{advocate['id']}/slots/",
        params={"date": day, "consultation_type": "video", "duration": 30},
        timeout=10,
    ).json()
    answer = api.post(
        f"{base}/api/documents/consultations/book",
        json={
            "advocate_id": advocate["id"],
            "date": day,
            "time": slots[0]["time"],
            "consultation_type": "video",
            "duration": 30,
        },
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    booking = answer.json()
    assert booking["amount"] == offer["price"]
    return booking


def _push(api: requests.Session, base: str, **body) -> requests.Response:
    return api.post(f"{base}/api/payment/mpesa/stk-push", json=body, timeout=30)


def _wait_final(api: requests.Session, base: str, checkout_id: str) -> dict:
    """Poll the status endpoint, as the page does, until ``is_final``."""
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        status = api.get(
            f"{base}/api/payment/mpesa/status/{checkout_id}", timeout=10
        ).json()
        if status["is_final"]:
            return status
        time.sleep(0.5)
    raise AssertionError(f"payment {checkout_id} not final in 45 s: {status}")


def test_checkout_api_pays_with_the_seed_guide_body(live_stack, api, booking_day):
    # given
    base = live_stack.web_url
    booking = _book(api, base, booking_day)

    # when: the seed guide's curl body, with a real booking id
    answer = _push(
        api,
        base,
        phone_number=SUCCESS_PHONE,
        amount=booking["amount"],
        booking_id=str(booking["booking_id"]),
        account_reference="HakiYetu",
        transaction_desc="Test Payment",
    )
    status = _wait_final(api, base, answer.json()["CheckoutRequestID"])

    # then
    assert answer.status_code == 201
    assert status["status"] == "completed"
    assert len(status["mpesa_receipt_number"]) == 10
    confirmed = api.get(f"{base}/api/bookings/{booking['booking_id']}/").json()
    assert (confirmed["status"], confirmed["payment_status"]) == ("confirmed", "paid")


def test_checkout_api_cancelled_payment_then_retry_succeeds(
    live_stack, api, booking_day
):
    # given
    base = live_stack.web_url
    booking_id = _book(api, base, booking_day)["booking_id"]
    first = _push(api, base, phone_number=CANCEL_PHONE, booking_id=booking_id)
    cancelled = _wait_final(api, base, first.json()["CheckoutRequestID"])

    # when: an immediate retry is asked to wait, then goes through
    too_soon = _push(api, base, phone_number=SUCCESS_PHONE, booking_id=booking_id)
    time.sleep(too_soon.json()["error"]["retry_after"])
    retry = _push(api, base, phone_number=SUCCESS_PHONE, booking_id=booking_id)
    paid = _wait_final(api, base, retry.json()["CheckoutRequestID"])

    # then
    assert (cancelled["status"], cancelled["failure_kind"]) == ("failed", "cancelled")
    assert cancelled["failure_reason"] == "You cancelled the payment on your phone."
    assert too_soon.status_code == 409
    assert too_soon.json()["error"]["code"] == "retry_too_soon"
    assert retry.status_code == 201
    assert paid["status"] == "completed"
    assert paid["mpesa_receipt_number"]


def test_checkout_api_lost_callback_is_settled_by_the_worker(
    live_stack, api, booking_day
):
    # given: Daraja's callback for this phone never arrives
    base = live_stack.web_url
    live_stack.simulator(
        "POST", "faults", {"fault": "lost_callback", "phone": LOST_CALLBACK_PHONE}
    )
    booking_id = _book(api, base, booking_day)["booking_id"]

    # when
    answer = _push(api, base, phone_number=LOST_CALLBACK_PHONE, booking_id=booking_id)
    checkout_id = answer.json()["CheckoutRequestID"]
    status = _wait_final(api, base, checkout_id)

    # then: completed by the worker's STK query; the query has no receipt
    assert status["status"] == "completed"
    assert status["mpesa_receipt_number"] is None
    assert callback_states(live_stack, checkout_id) == ["suppressed"]
    assert query_count(live_stack, checkout_id) >= 1


def callback_states(live_stack, checkout_id: str) -> list[str]:
    """What the simulator did with the callbacks of one push."""
    callbacks = live_stack.simulator("GET", "callbacks")["callbacks"]
    return [c["state"] for c in callbacks if c["CheckoutRequestID"] == checkout_id]


def query_count(live_stack, checkout_id: str) -> int:
    """STK queries about one push the simulator received (the worker's)."""
    queries = live_stack.simulator("GET", f"requests?path={QUERY_PATH}")["requests"]
    return sum(
        1 for q in queries if (q["body"] or {}).get("CheckoutRequestID") == checkout_id
    )
