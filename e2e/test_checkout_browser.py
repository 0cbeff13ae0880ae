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

from e2e.conftest import DEMO_CLIENT, save_screenshot
from e2e.test_checkout_api_flow import (
    CANCEL_PHONE,
    SUCCESS_PHONE,
    callback_states,
    query_count,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

LOST_CALLBACK_PHONE = "254722000001"
WAITING = "Check your phone and enter your M-Pesa PIN"
RECEIPT = re.compile(r"^[A-Z0-9]{10}$")


def _sign_in(page: Page) -> None:
    page.goto("/")
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

    # then
    expect(page.get_by_role("heading", name=WAITING)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(WAITING)
    _expect_receipt(page)
    expect(page.get_by_test_id("receipt-number")).to_have_text(RECEIPT)
    expect(page.locator("#receipt-amount")).to_have_text("KES 3,000")
    _assert_fits_phone(page)
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
