"""Issue 15, point 9: a Finance user reads yesterday's daily close (the
figures, the open items, the 30-day chart drawn as SVG) and closes it.

The page is saved at desktop and phone widths under
test-artifacts/screenshots/ and must fit both without sideways scrolling
(the chart scrolls in its own box on a phone).
"""

import os
import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import save_screenshot
from e2e.stack import Stack, start_stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

WIDTHS = {"desktop": 1280, "phone": 390}
FINANCE = "close-finance"
# Its own processes and Redis database: the month of factory data it seeds
# (advocates without working hours among them) must not reach the shared
# stack's tests, which book the first advocate listed.
CLOSE_REDIS_DB = os.environ.get("E2E_CLOSE_REDIS_DB", "6")


@pytest.fixture(scope="module")
def live_stack(tmp_path_factory) -> Iterator[Stack]:
    stack = start_stack(tmp_path_factory.mktemp("close-stack"), redis_db=CLOSE_REDIS_DB)
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def seeded(live_stack, tmp_path_factory) -> tuple[str, str]:
    """The Finance user's password and yesterday, with a month of data."""
    password = secrets.token_urlsafe(12)
    out = tmp_path_factory.mktemp("close") / "day.txt"
    code = (
        "from e2e.close_data import seed_month; "
        f"print(seed_month({FINANCE!r}, {password!r}))"
    )
    live_stack.manage("shell", "-c", code, log="close-seed", output=out)
    return password, out.read_text().strip().splitlines()[-1]


def _log_in(page: Page, password: str) -> None:
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(FINANCE)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def _fits(page: Page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"page is {scroll}px wide on a {width}px screen"


def test_finance_reads_and_closes_yesterday(page: Page, seeded):
    password, day = seeded
    _log_in(page, password)
    # when: they open yesterday's close
    page.goto(f"/admin/closing/dailyclose/day/{day}/")
    # then the figures, the open items and the chart are there
    expect(page.locator("#money-in")).to_contain_text("Paybill")
    expect(page.locator("#open-needs_review")).to_contain_text("1")
    expect(page.locator("#close-chart svg rect.bar")).to_have_count(30)
    for name, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        _fits(page, width)
        save_screenshot(page, f"daily-close-{name}")
    # when they close it
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})
    page.get_by_role("button", name="Close this day").click()
    # then the page says who closed it
    expect(page.locator("#close-state")).to_contain_text(f"Closed by {FINANCE}")
    expect(page.get_by_role("button", name="Close this day")).to_have_count(0)
