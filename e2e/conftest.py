"""Fixtures of the end-to-end tests: real processes, an API client, Chromium.

``live_stack`` starts the simulator, web server, Celery worker and beat once
for the whole ``e2e`` package (see ``e2e/stack.py``) and stops their
process groups when the package is done, so they do not outlive it into the
rest of the suite. The tests reach them over HTTP only and need no
``django_db``.
"""

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.utils import timezone

from e2e.stack import BASE_DIR, Stack, start_stack

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = BASE_DIR / "test-artifacts" / "screenshots"
TIMEOUT_MS = float(os.environ.get("E2E_TIMEOUT_MS", "30000"))
DEMO_CLIENT = ("demo-client", "hakiyetu-demo")
_saved: list[Path] = []


def pytest_collection_modifyitems(config, items):
    """Skip browser tests up front, before any process starts, without Chromium."""
    if Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(
        reason=f"{CHROMIUM} not found: install Debian's chromium "
        "(apt-get install -y chromium); never download a browser"
    )
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    """Name the screenshot folder in the CI log."""
    if _saved:
        terminalreporter.write_sep("-", "e2e screenshots")
        terminalreporter.write_line(f"e2e screenshots saved in {SCREENSHOTS}")
        for path in _saved:
            terminalreporter.write_line(f"  {path}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="package")
def live_stack(tmp_path_factory) -> Iterator[Stack]:
    """Simulator, web, worker and beat on free ports, with a private VAR_DIR."""
    stack = start_stack(tmp_path_factory.mktemp("e2e-stack"))
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(autouse=True)
def _fresh_simulator(request) -> Iterator[None]:
    """Each test starts with no scripted faults or scenarios; when it fails,
    the processes' last log lines go into its report."""
    if "live_stack" not in request.fixturenames:
        yield
        return
    stack = request.getfixturevalue("live_stack")
    stack.simulator("POST", "reset")
    yield
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        for name in ("web", "worker", "beat", "simulator"):
            tail = stack.log_tail(name, 60)
            print(f"--- last lines of {name}.log ---\n{tail}")  # noqa: T201


@pytest.fixture
def booking_day() -> str:
    """Tomorrow in Nairobi: every demo advocate but one works every day."""
    return (timezone.localdate() + timedelta(days=1)).isoformat()


@pytest.fixture
def api(live_stack) -> requests.Session:
    """A session authenticated as the demo client with a DRF token."""
    session = requests.Session()
    answer = session.post(
        f"{live_stack.web_url}/api/auth/token/",
        json={"username": DEMO_CLIENT[0], "password": DEMO_CLIENT[1]},
        timeout=10,
    )
    answer.raise_for_status()
    session.headers["Authorization"] = f"Token {answer.json()['token']}"
    return session


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by Playwright (never downloaded).

    Playwright's ``launch`` starts it with a new, empty profile directory.
    """
    sync_api = pytest.importorskip("playwright.sync_api")
    # Outcomes take seconds (callback delay, the worker's query, backoff).
    sync_api.expect.set_options(timeout=TIMEOUT_MS)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_stack, request):
    """A phone-sized page (375 x 812); a screenshot is kept if the test fails."""
    context = browser.new_context(
        viewport={"width": 375, "height": 812}, base_url=live_stack.web_url
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.csp_violations = csp_violations = []  # see assert_no_csp_violations
    page.on(
        "console",
        lambda message: (
            csp_violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    yield page
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        save_screenshot(page, f"FAILED-{request.node.name}")
    context.close()


def assert_no_csp_violations(page) -> None:
    """Chromium reported nothing the page's Content-Security-Policy refused."""
    assert page.csp_violations == [], page.csp_violations


def save_screenshot(page, name: str) -> Path:
    """A full-page PNG under test-artifacts/screenshots/, named in the summary."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    if not _saved:  # the folder holds this run's pictures only
        for old in SCREENSHOTS.glob("*.png"):
            old.unlink()
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    _saved.append(path)
    return path
