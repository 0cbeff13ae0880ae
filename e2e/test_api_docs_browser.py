"""/api/docs/ (Swagger UI) and /api/redoc/ render in Chromium with no internet.

Every request off this machine is refused, as on a newcomer's laptop
offline: the pages must still show the API (issue 11, point 14).
"""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def _offline(page: Page) -> list[str]:
    """Abort every request that leaves 127.0.0.1; return what was tried."""
    refused: list[str] = []
    page.set_viewport_size({"width": 1280, "height": 900})  # ReDoc's side menu

    def route(r):
        if urlsplit(r.request.url).hostname in {"127.0.0.1", "localhost"}:
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return refused


def test_swagger_ui_renders_offline(page: Page, live_stack):
    # given
    refused = _offline(page)

    # when
    page.goto("/api/docs/")

    # then
    expect(page.locator(".swagger-ui .info .title")).to_contain_text(
        "Haki Yetu Payments API"
    )
    expect(page.get_by_text("/api/payment/mpesa/stk-push").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert refused == []


def test_redoc_renders_offline(page: Page, live_stack):
    # given
    refused = _offline(page)

    # when
    page.goto("/api/redoc/")

    # then
    expect(page.get_by_role("heading", name="Haki Yetu Payments API")).to_be_visible()
    expect(page.get_by_text("API docs by Redocly")).to_be_visible()  # its logo
    page.wait_for_load_state("networkidle")
    assert refused == []
