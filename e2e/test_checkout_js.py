"""The checkout page's ES modules, under Node's own test runner.

checkout.js's payment client: the contract paths a browser flow cannot
reach cheaply (the 180 s time limit, 409 resume, 502 read-back,
Idempotency-Key re-send) run against a scripted fetch in
e2e/js/checkout.test.mjs. booking-watch.js's poller (the page noticing a
booking paid some other way): its timing, back-off, visibility and stop
rules run on a fake clock in e2e/js/booking-watch.test.mjs. Skipped
without Node.js.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

JS_TESTS = Path(__file__).parent / "js"


def _node_test(name: str) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js not found; the browser flows still cover the page")
    return subprocess.run(  # noqa: S603 - fixed argv
        [node, "--test", str(JS_TESTS / name)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_checkout_js_payment_client_contract():
    # given / when
    run = _node_test("checkout.test.mjs")

    # then
    assert run.returncode == 0, run.stdout + run.stderr


def test_booking_watch_js_poller_rules():
    # given / when
    run = _node_test("booking-watch.test.mjs")

    # then
    assert run.returncode == 0, run.stdout + run.stderr
