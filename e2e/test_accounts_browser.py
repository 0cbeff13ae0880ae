"""Client accounts on the checkout page, in Debian's Chromium (issue 17).

A new person creates an account beside the sign-in form and lands on the
booking form signed in, with the M-Pesa phone they gave pre-filled. The
sign-in, sign-up and reset forms are saved at desktop and phone widths
under test-artifacts/screenshots/.
"""

import uuid

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import assert_no_csp_violations, save_screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

WIDTHS = {"desktop": 1280, "phone": 390}


def _fits(page: Page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"page is {scroll}px wide on a {width}px screen"


def test_a_new_person_signs_up_on_the_checkout_page(page: Page, live_stack):
    # given the signed-out checkout page
    name = f"new-{uuid.uuid4().hex[:8]}"
    page.goto("/")
    # when: they open "Create an account" and fill it in
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create an account")).to_be_focused()
    form = page.locator("#signup-form")
    form.get_by_label("Full name").fill("Njeri Wambui")
    form.get_by_label("E-mail address").fill(f"{name}@example.com")
    form.get_by_label("Username (optional)").fill(name)
    form.get_by_label("M-Pesa phone number (optional)").fill("0708 374 149")
    # a weak password first: the API's message shows at the field
    form.get_by_label("Choose a password").fill("12345678")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#signup-password-error")).to_contain_text("too common")
    form.get_by_label("Choose a password").fill("mlima-kenya-2027-safari")
    page.get_by_role("button", name="Create account").click()
    # then they are signed in, on the booking form, phone pre-filled
    expect(page.get_by_role("heading", name="Book a consultation")).to_be_visible()
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()
    expect(page.get_by_label("M-Pesa phone number")).to_have_value("254708374149")
    assert_no_csp_violations(page)


def test_a_taken_username_shows_at_its_field(page: Page, live_stack):
    page.goto("/#signup")
    form = page.locator("#signup-form")
    form.get_by_label("Full name").fill("Demo Again")
    form.get_by_label("E-mail address").fill(f"{uuid.uuid4().hex[:8]}@example.com")
    form.get_by_label("Username (optional)").fill("demo-client")
    form.get_by_label("Choose a password").fill("mlima-kenya-2027-safari")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#signup-username-error")).to_have_text(
        "That username is taken."
    )
    expect(form.get_by_label("Username (optional)")).to_be_focused()


def test_a_wrong_reset_link_says_so(page: Page, live_stack):
    page.goto("/#reset?uid=MQ&token=wrong-token")
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill("mlima-kenya-2027-safari")
    page.get_by_role("button", name="Set the password").click()
    expect(page.get_by_role("alert")).to_contain_text("invalid or has expired")
    page.get_by_role("link", name="Ask for a new link").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    assert_no_csp_violations(page)


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_account_forms_screenshots(page: Page, live_stack, width):
    page.set_viewport_size({"width": width, "height": 900})
    views = {
        "signin": ("/", "Sign in to book a consultation"),
        "signup": ("/#signup", "Create an account"),
        "forgot": ("/#forgot", "Forgot your password?"),
        "reset": ("/#reset?uid=MQ&token=x", "Choose a new password"),
    }
    for view, (path, heading) in views.items():
        page.goto("/")  # a hash-only change would not reload
        page.goto(path)
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        _fits(page, width)
        save_screenshot(page, f"accounts-{view}-{width}")
    assert_no_csp_violations(page)


def test_forgot_password_answers_the_same_for_any_address(page: Page, live_stack):
    page.goto("/")
    page.get_by_role("link", name="Forgot password?").click()
    form = page.locator("#forgot-form")
    form.get_by_label("E-mail address").fill("nobody@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.locator("#forgot-done")).to_contain_text(
        "If an account has that e-mail address, a reset link is on its way."
    )
    assert_no_csp_violations(page)
