"""Issue 17, point 7: a new person signs up on the checkout page, books,
pays through the simulator and receives the confirmation e-mail.

The stack of this module writes e-mails to files (``EMAIL_URL=filemail://``)
and SMS to files (``SMS_BACKEND=file``); the Celery worker sends them after
the payment commits.
"""

import time
import uuid
from collections.abc import Iterator
from email import message_from_string
from email.message import Message
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import assert_no_csp_violations
from e2e.stack import Stack, start_stack
from e2e.test_checkout_api_flow import SUCCESS_PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

NOTICES_REDIS_DB = "5"
MAIL_WITHIN_SECONDS = 30


@pytest.fixture(scope="module")
def outboxes(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("notices-outbox")
    return {"mail": root / "mail", "sms": root / "sms"}


@pytest.fixture(scope="module")
def live_stack(tmp_path_factory, outboxes) -> Iterator[Stack]:
    """This module's own processes, sending notices to files."""
    stack = start_stack(
        tmp_path_factory.mktemp("notices-stack"),
        overrides={
            "EMAIL_URL": f"filemail://{outboxes['mail']}",
            "SMS_BACKEND": "file",
            "SMS_FILE_DIR": str(outboxes["sms"]),
        },
        redis_db=NOTICES_REDIS_DB,
    )
    try:
        yield stack
    finally:
        stack.stop()


def _mail_to(folder: Path, address: str) -> list[Message]:
    if not folder.exists():
        return []
    messages = []
    for path in folder.iterdir():
        # The file backend separates messages in one file by a line of dashes.
        for chunk in path.read_text().split("-" * 79):
            if chunk.strip():
                message = message_from_string(chunk.strip())
                if message["To"] == address:
                    messages.append(message)
    return messages


def _wait_for_mail(folder: Path, address: str) -> Message:
    deadline = time.monotonic() + MAIL_WITHIN_SECONDS
    while time.monotonic() < deadline:
        found = _mail_to(folder, address)
        if found:
            return found[0]
        time.sleep(0.5)
    raise AssertionError(f"no e-mail to {address} in {folder}")


def _plain_text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    return ""


def _sign_up(page: Page, name: str) -> str:
    address = f"{name}@example.com"
    page.goto("/")
    page.get_by_role("link", name="Create an account").click()
    form = page.locator("#signup-form")
    form.get_by_label("Full name").fill("Njeri Wambui")
    form.get_by_label("E-mail address").fill(address)
    form.get_by_label("Username (optional)").fill(name)
    form.get_by_label("M-Pesa phone number (optional)").fill("0708 374 149")
    form.get_by_label("Choose a password").fill("mlima-kenya-2027-safari")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Book a consultation")).to_be_visible()
    return address


def test_new_client_books_pays_and_receives_the_confirmation(
    page: Page, live_stack, outboxes, booking_day
):
    # given a person who signs up on the checkout page
    address = _sign_up(page, f"new-{uuid.uuid4().hex[:8]}")
    # when they book the first free slot and pay through the simulator
    page.get_by_label("Type and length").select_option("video:30")
    page.get_by_label("Date").fill(booking_day)
    first_slot = page.locator("#slot-list input[type=radio]").first
    expect(first_slot).to_be_attached()
    first_slot.check(force=True)
    page.get_by_label("M-Pesa phone number").fill(SUCCESS_PHONE)
    page.get_by_role("button", name="Pay with M-Pesa").click()
    expect(page.get_by_role("heading", name="Payment received")).to_be_visible()
    reference = page.get_by_test_id("receipt-reference").inner_text()
    receipt = page.get_by_test_id("receipt-number").inner_text()
    # then the confirmation e-mail arrives with the reference and receipt
    mail = _wait_for_mail(outboxes["mail"], address)
    assert reference in mail["Subject"]
    body = _plain_text(mail)
    for fact in (reference, receipt, "KES 3,000", "Nairobi time"):
        assert fact in body
    assert_no_csp_violations(page)
