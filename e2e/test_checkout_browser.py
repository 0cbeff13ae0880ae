"""The checkout page in Debian's Chromium, against real processes.

A phone-sized page signs in as the demo client, books the first free slot
and pays with M-Pesa. The simulator answers the push, then its callback
(or, when the callback is lost, the Celery worker's STK query) settles
the payment; the page's polling shows the outcome. A booking paid some
other way (a prompt sent through the API, a Paybill payment by hand) is
noticed by the page's watch of the booking. Each final page is saved under
test-artifacts/screenshots/.
"""

import re
import time

import pytest
import requests
from django.urls import NoReverseMatch, get_resolver, reverse
from playwright.sync_api import Page, expect

from e2e.conftest import DEMO_CLIENT, assert_no_csp_violations, save_screenshot
from e2e.test_checkout_api_flow import (
    CANCEL_PHONE,
    SUCCESS_PHONE,
    callback_states,
    query_count,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

LOST_CALLBACK_PHONE = "254722000001"
NO_ANSWER_PHONE = "254700001037"  # the simulator answers after --stk-lifetime
WAITING = "Check your phone and enter your M-Pesa PIN"
RECEIPT = re.compile(r"^[A-Z0-9]{10}$")
REFERENCE = re.compile(r"^HY[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{6}$")
NOT_A_MOBILE = "Enter a Kenyan mobile number, e.g. 0712 345 678."
PAID = "Payment received"
# A booking paid elsewhere shows on the page within a few seconds: the
# booking is polled every 2.5 s, the simulator's callback comes after 1 s.
NOTICED_WITHIN_MS = 10_000


def _c2b_confirmation_routed() -> bool:
    """Whether payments/api/urls.py routes the C2B confirmation (built on
    branch i13-c2b); the Paybill browser test needs it."""
    try:
        reverse("payments:c2b-confirmation", args=["secret"])
    except NoReverseMatch:
        namespace = get_resolver().namespace_dict.get("payments")
        return namespace is not None and "c2b-confirmation" in namespace[1].reverse_dict
    return True


C2B_CONFIRMATION_ROUTED = _c2b_confirmation_routed()


def _sign_in(page: Page) -> None:
    answer = page.goto("/")
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    page.get_by_label("Username", exact=True).fill(DEMO_CLIENT[0])
    page.get_by_label("Password", exact=True).fill(DEMO_CLIENT[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Book a consultation")).to_be_visible()


def _choose_first_slot(page: Page, day: str) -> None:
    page.get_by_label("Type and length").select_option("video:30")
    page.get_by_label("Date").fill(day)
    first_slot = page.locator("#slot-list input[type=radio]").first
    expect(first_slot).to_be_attached()
    first_slot.check(force=True)  # the radio is visually hidden behind its label


def _pay(page: Page, phone: str) -> None:
    page.get_by_label("M-Pesa phone number").fill(phone)
    page.get_by_role("button", name="Pay with M-Pesa").click()


def _expect_receipt(page: Page) -> None:
    success = page.get_by_role("heading", name="Payment received")
    expect(success).to_be_visible()
    expect(success).to_be_focused()


def _assert_fits_phone(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"page is {width}px wide on a 375px screen"


def _bookings(api) -> list[dict]:
    """The demo client's bookings, newest first, as the API lists them."""
    answer = api.get(f"{api.base_url}/api/bookings/", timeout=10)
    answer.raise_for_status()
    return answer.json()["results"]


def _booking_count(api) -> int:
    answer = api.get(f"{api.base_url}/api/bookings/", timeout=10)
    answer.raise_for_status()
    return answer.json()["count"]


@pytest.fixture
def client_api(api, live_stack):
    api.base_url = live_stack.web_url
    return api


def test_checkout_page_session_sign_in_and_out(page: Page, live_stack):
    # given
    page.goto("/")
    expect(page.get_by_text("demo-client")).to_be_visible()  # demo logins shown

    # when: a wrong password, then the demo login
    page.get_by_label("Username", exact=True).fill(DEMO_CLIENT[0])
    page.get_by_label("Password", exact=True).fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username")
    _sign_in(page)
    page.get_by_role("button", name="Sign out").click()

    # then
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_checkout_page_books_and_pays(page: Page, live_stack, booking_day):
    # given
    _sign_in(page)
    _choose_first_slot(page, booking_day)
    expect(page.get_by_test_id("price")).to_have_text("KES 3,000")

    # when
    _pay(page, SUCCESS_PHONE)
    # the reference is shown as soon as the booking is made
    expect(page.get_by_test_id("booking-reference")).to_have_text(REFERENCE)

    # then
    expect(page.get_by_role("heading", name=WAITING)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(WAITING)
    _expect_receipt(page)
    expect(page.get_by_test_id("receipt-number")).to_have_text(RECEIPT)
    expect(page.locator("#receipt-amount")).to_have_text("KES 3,000")
    expect(page.get_by_test_id("receipt-reference")).to_have_text(REFERENCE)
    expect(page.get_by_role("button", name="Start over")).to_be_hidden()  # paid
    _assert_fits_phone(page)
    assert_no_csp_violations(page)
    save_screenshot(page, "1-paid-receipt")


def test_checkout_page_shows_cancellation_then_retry_pays(
    page: Page, live_stack, booking_day
):
    # given
    _sign_in(page)
    _choose_first_slot(page, booking_day)
    _pay(page, CANCEL_PHONE)
    failure = page.get_by_role("heading", name="Payment not completed")
    expect(failure).to_be_focused()
    expect(page.get_by_test_id("failure-reason")).to_have_text(
        "You cancelled the payment on your phone. Nothing was charged."
    )
    _assert_fits_phone(page)
    save_screenshot(page, "2-cancelled-reason")

    # when: another number; the page waits out the server's retry pause
    page.get_by_label("M-Pesa phone number").fill(SUCCESS_PHONE)
    page.get_by_role("button", name="Try again").click()

    # then
    _expect_receipt(page)
    expect(page.get_by_test_id("receipt-number")).to_have_text(RECEIPT)
    save_screenshot(page, "2-cancelled-then-paid-receipt")


def test_checkout_page_ends_on_receipt_after_lost_callback(
    page: Page, live_stack, booking_day
):
    # given: Daraja's callback for this phone never arrives
    live_stack.simulator(
        "POST", "faults", {"fault": "lost_callback", "phone": LOST_CALLBACK_PHONE}
    )
    _sign_in(page)
    _choose_first_slot(page, booking_day)

    # when
    _pay(page, LOST_CALLBACK_PHONE)

    # then: the worker's STK query settled it (the query carries no receipt)
    _expect_receipt(page)
    expect(page.get_by_test_id("receipt-number")).to_contain_text("M-Pesa SMS")
    (push,) = live_stack.simulator("GET", "ledger")["payments"]
    checkout_id = push["CheckoutRequestID"]
    assert push["phone"] == LOST_CALLBACK_PHONE
    assert callback_states(live_stack, checkout_id) == ["suppressed"]
    assert query_count(live_stack, checkout_id) >= 1
    save_screenshot(page, "3-lost-callback-receipt")


def test_checkout_page_refuses_a_wrong_number_before_booking(
    page: Page, live_stack, booking_day, client_api
):
    # given
    before = _booking_count(client_api)
    _sign_in(page)
    _choose_first_slot(page, booking_day)

    # when: a landline, then a number one digit short
    for wrong in ("020 123 4567", "070837414"):
        _pay(page, wrong)

        # then: the server's own message, on the field, and no slot is held
        expect(page.locator("#phone-error")).to_have_text(NOT_A_MOBILE)
        expect(page.get_by_label("M-Pesa phone number")).to_be_focused()
    expect(page.get_by_role("heading", name=WAITING)).to_be_hidden()
    assert _booking_count(client_api) == before
    save_screenshot(page, "4-wrong-number-before-booking")

    # and the usual spellings of a right number pay
    _pay(page, "+254 708 374 149")
    _expect_receipt(page)
    assert _booking_count(client_api) == before + 1
    assert_no_csp_violations(page)


def test_start_over_while_waiting_cancels_the_unpaid_booking(
    page: Page, live_stack, booking_day, client_api
):
    # given: a prompt nobody answers yet
    _sign_in(page)
    _choose_first_slot(page, booking_day)
    _pay(page, NO_ANSWER_PHONE)
    expect(page.get_by_role("heading", name=WAITING)).to_be_visible()
    (booking,) = _bookings(client_api)[:1]
    assert booking["status"] == "pending_payment"
    save_screenshot(page, "5-waiting-with-start-over")

    # when: the customer starts over (and confirms: a prompt is open)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Start over").click()

    # then: a fresh form, and the booking no longer holds its slot
    expect(page.get_by_role("button", name="Pay with M-Pesa")).to_be_enabled()
    expect(page.get_by_label("Type and length")).to_be_enabled()
    expect(page.get_by_role("button", name="Start over")).to_be_hidden()
    (after,) = [b for b in _bookings(client_api) if b["id"] == booking["id"]]
    assert after["status"] == "cancelled"
    assert_no_csp_violations(page)


def test_start_over_after_a_failure_cancels_the_unpaid_booking(
    page: Page, live_stack, booking_day, client_api
):
    # given: a payment the customer cancelled on the phone
    _sign_in(page)
    _choose_first_slot(page, booking_day)
    expect(page.get_by_role("button", name="Start over")).to_be_hidden()  # no booking
    _pay(page, CANCEL_PHONE)
    expect(page.get_by_role("heading", name="Payment not completed")).to_be_visible()
    (booking,) = _bookings(client_api)[:1]

    # when
    page.get_by_role("button", name="Start over").click()

    # then
    expect(page.get_by_role("button", name="Pay with M-Pesa")).to_be_enabled()
    expect(page.get_by_role("heading", name="Payment not completed")).to_be_hidden()
    (after,) = [b for b in _bookings(client_api) if b["id"] == booking["id"]]
    assert after["status"] == "cancelled"
    assert_no_csp_violations(page)


@pytest.mark.parametrize("width", [390, 1280])
def test_checkout_page_shows_the_price_without_opening_the_select(
    page: Page, live_stack, booking_day, width
):
    # given
    page.set_viewport_size({"width": width, "height": 900})
    _sign_in(page)

    # when
    _choose_first_slot(page, booking_day)

    # then: the closed select shows the price first, where it is not cut off
    offer = page.get_by_label("Type and length")
    label = offer.evaluate("select => select.selectedOptions[0].textContent")
    assert label.startswith("KES 3,000"), label
    price_fits = offer.evaluate(
        """select => {
            const style = getComputedStyle(select);
            const ctx = document.createElement("canvas").getContext("2d");
            ctx.font = `${style.fontSize} ${style.fontFamily}`;
            const text = ctx.measureText("KES 3,000").width;
            const room = select.clientWidth - parseFloat(style.paddingLeft)
                - parseFloat(style.paddingRight);
            return text < room;
        }"""
    )
    assert price_fits
    width_now = page.evaluate("document.documentElement.scrollWidth")
    assert width_now <= width, f"page is {width_now}px wide on a {width}px screen"
    assert_no_csp_violations(page)
    save_screenshot(page, f"6-choose-{width}px")


def _wait_for_failure_with_paybill(page: Page, live_stack) -> str:
    """The prompt failed; the Paybill box shows this booking (the stack's
    shortcode, MPESA_C2B_SHORT_CODE's default). Its reference."""
    expect(page.get_by_role("heading", name="Payment not completed")).to_be_visible()
    paybill = page.get_by_role("region", name="Or pay by Paybill")
    expect(paybill).to_be_visible()
    short_code = live_stack.env["MPESA_BUSINESS_SHORT_CODE"]
    expect(page.get_by_test_id("paybill-business")).to_have_text(short_code)
    expect(page.get_by_test_id("paybill-amount")).to_have_text("KES 3,000")
    account = page.get_by_test_id("paybill-account")
    expect(account).to_have_text(REFERENCE)
    reference = account.text_content()
    expect(page.get_by_test_id("booking-reference")).to_have_text(reference)
    return reference


def _push_from_elsewhere(client_api, booking_id: int) -> dict:
    """An STK push for the booking through the API (the SPA, another
    device), waiting out the server's pause after the failed prompt."""
    deadline = time.monotonic() + 30
    while True:
        answer = client_api.post(
            f"{client_api.base_url}/api/payment/mpesa/stk-push",
            json={"phone_number": SUCCESS_PHONE, "booking_id": booking_id},
            timeout=30,
        )
        error = answer.json().get("error", {})
        if error.get("code") != "retry_too_soon" or time.monotonic() > deadline:
            break
        time.sleep(float(error["retry_after"]))
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_checkout_page_notices_the_booking_paid_from_elsewhere(
    page: Page, live_stack, booking_day, client_api
):
    # given: the page's own prompt failed; its STK poll is over
    _sign_in(page)
    _choose_first_slot(page, booking_day)
    _pay(page, CANCEL_PHONE)
    reference = _wait_for_failure_with_paybill(page, live_stack)
    (booking,) = _bookings(client_api)[:1]
    assert (booking["reference"], booking["status"]) == (reference, "pending_payment")
    _assert_fits_phone(page)
    save_screenshot(page, "7-failed-with-paybill")

    # when: the same client pays it through the API, not through the page
    _push_from_elsewhere(client_api, booking["id"])

    # then: the booking's watch shows it paid, with the receipt
    expect(page.get_by_role("heading", name=PAID)).to_be_visible(
        timeout=NOTICED_WITHIN_MS
    )
    expect(page.get_by_test_id("receipt-number")).to_have_text(RECEIPT)
    expect(page.get_by_test_id("receipt-reference")).to_have_text(reference)
    expect(page.locator("#receipt-booking")).to_contain_text("confirmed")
    expect(page.get_by_role("region", name="Or pay by Paybill")).to_be_hidden()
    expect(page.get_by_role("heading", name="Payment not completed")).to_be_hidden()
    expect(page.get_by_role("button", name="Start over")).to_be_hidden()
    (after,) = [b for b in _bookings(client_api) if b["id"] == booking["id"]]
    shown = page.get_by_test_id("receipt-number").text_content()
    assert (after["status"], after["payment_status"]) == ("confirmed", "paid")
    assert after["latest_payment"] == {
        "status": "completed",
        "mpesa_receipt_number": shown,
    }
    assert_no_csp_violations(page)
    save_screenshot(page, "7-paid-from-elsewhere")


def test_checkout_page_hides_the_paybill_box_once_the_booking_is_cancelled(
    page: Page, live_stack, booking_day, client_api
):
    # given: a failed prompt, the Paybill box shown
    _sign_in(page)
    _choose_first_slot(page, booking_day)
    _pay(page, CANCEL_PHONE)
    reference = _wait_for_failure_with_paybill(page, live_stack)
    expect(page.locator("#failure-hint")).to_contain_text("Or pay by Paybill below.")
    (booking,) = [b for b in _bookings(client_api) if b["reference"] == reference]

    # when: the booking is cancelled elsewhere (the SPA, another tab)
    answer = client_api.post(
        f"{client_api.base_url}/api/bookings/{booking['id']}/cancel/", timeout=10
    )
    assert answer.status_code == 200, answer.text

    # then: nobody is invited to pay for it any more
    expect(page.get_by_role("region", name="Or pay by Paybill")).to_be_hidden(
        timeout=NOTICED_WITHIN_MS
    )
    expect(page.locator("#form-error")).to_contain_text(
        "This booking was cancelled, so please do not pay for it."
    )
    expect(page.locator("#price-note")).to_have_text(
        f"Booking #{booking['id']}: cancelled."
    )
    expect(page.get_by_role("button", name="Try again")).to_be_hidden()
    expect(page.get_by_role("button", name="Start over")).to_be_visible()
    assert_no_csp_violations(page)
    save_screenshot(page, "9-cancelled-elsewhere")


def _register_c2b_urls(live_stack) -> None:
    """Register our C2B URLs with the simulator, as
    ``mpesa_register_c2b_urls`` does with Daraja (v2, Completed)."""
    env, sim = live_stack.env, live_stack.simulator_url
    token = requests.get(
        f"{sim}/oauth/v1/generate",
        params={"grant_type": "client_credentials"},
        auth=(env["MPESA_CONSUMER_KEY"], env["MPESA_CONSUMER_SECRET"]),
        timeout=10,
    )
    token.raise_for_status()
    secret = env["MPESA_CALLBACK_SECRET"]  # MPESA_C2B_SECRET's default
    c2b = f"{live_stack.web_url}/api/payment/c2b"
    answer = requests.post(
        f"{sim}/mpesa/c2b/v2/registerurl",
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        json={
            "ShortCode": env["MPESA_BUSINESS_SHORT_CODE"],
            "ResponseType": "Completed",
            "ConfirmationURL": f"{c2b}/confirmation/{secret}",
            "ValidationURL": f"{c2b}/validation/{secret}",
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.skipif(
    not C2B_CONFIRMATION_ROUTED,
    reason="no payments:c2b-confirmation URL yet (the C2B endpoints of branch "
    "i13-c2b); the page's watch is covered by the test above",
)
def test_checkout_page_shows_the_booking_paid_by_paybill(
    page: Page, live_stack, booking_day, client_api
):
    # given: the page open on a booking awaiting payment, its prompt failed
    _register_c2b_urls(live_stack)
    _sign_in(page)
    _choose_first_slot(page, booking_day)
    _pay(page, CANCEL_PHONE)
    reference = _wait_for_failure_with_paybill(page, live_stack)

    # when: the client pays by hand: Lipa na M-PESA, Pay Bill, the page's
    # business number, the reference as the account number, the amount
    paid = live_stack.simulator(
        "POST",
        "c2b/pay",
        {
            "phone": SUCCESS_PHONE,
            "amount": 3000,
            "account": reference,
            "short_code": live_stack.env["MPESA_BUSINESS_SHORT_CODE"],
        },
    )
    assert paid["status"] == "completed", paid

    # then: the page shows the booking paid, with the Paybill receipt
    expect(page.get_by_role("heading", name=PAID)).to_be_visible(
        timeout=NOTICED_WITHIN_MS
    )
    expect(page.get_by_test_id("receipt-number")).to_have_text(paid["receipt"])
    expect(page.get_by_test_id("receipt-reference")).to_have_text(reference)
    expect(page.locator("#receipt-booking")).to_contain_text("confirmed")
    expect(page.get_by_role("region", name="Or pay by Paybill")).to_be_hidden()
    (booking,) = [b for b in _bookings(client_api) if b["reference"] == reference]
    assert (booking["status"], booking["payment_status"]) == ("confirmed", "paid")
    assert booking["receipt"] == {
        "receipt_number": paid["receipt"],
        "channel": "paybill",
    }
    assert_no_csp_violations(page)
    save_screenshot(page, "8-paid-by-paybill")
