"""checkout.js's payment client, under Node's own test runner.

The contract paths a browser flow cannot reach cheaply (the 180 s time
limit, 409 resume, 502 read-back, Idempotency-Key re-send) run against a
scripted fetch in e2e/js/checkout.test.mjs. Skipped without Node.js.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

TESTS = Path(__file__).parent / "js" / "checkout.test.mjs"


def test_checkout_js_payment_client_contract():
    # given
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js not found; the browser flows still cover checkout.js")

    # when
    run = subprocess.run(  # noqa: S603 - fixed argv
        [node, "--test", str(TESTS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    # then
    assert run.returncode == 0, run.stdout + run.stderr
