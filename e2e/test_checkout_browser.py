"""The checkout page in Debian's Chromium, against real processes.

A phone-sized page signs in as the demo client, books the first free slot
and pays with M-Pesa. The simulator answers the push, then its callback
(or, when the callback is lost, the Celery worker's STK query) settles
the payment; the page's polling shows the outcome. Each final page is saved
under test-artifacts/screenshots/.
"""

import re

import pytest
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


def _sign_in(page: Page) -> None:
    answer = page.goto("/")
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    page.get_by_label("Username").fill(DEMO_CLIENT[0])
    page.get_by_label("Password").fill(DEMO_CLIENT[1])
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
    page.get_by_label("Username").fill(DEMO_CLIENT[0])
    page.get_by_label("Password").fill("wrong")
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
