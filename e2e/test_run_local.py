"""``run_local --port --simulator-port`` with a ``.env`` written for 8000/8765.

A real start: the processes ``run_local`` starts must push to the simulator
on the port given and be called back on the web port given, or the payment
never gets its callback (issue 11, point 15).
"""

import os
import subprocess
import sys
import time

import pytest
import requests

from e2e.stack import BASE_DIR, Stack, _wait_until, free_port
from e2e.stack_env import child_env
from e2e.test_checkout_api_flow import SUCCESS_PHONE, _book, _push, _wait_final

pytestmark = pytest.mark.e2e

# Redis database number of these processes (with redis:// URLs), away from
# the other e2e stacks' 13, 14 and 15.
RUN_LOCAL_REDIS_DB = os.environ.get("E2E_RUN_LOCAL_REDIS_DB", "12")


@pytest.fixture
def run_local(tmp_path):
    """run_local on free ports; MPESA_* URLs as `.env` has them for 8000/8765."""
    stale = Stack(
        web_url="http://127.0.0.1:8000",
        simulator_url="http://127.0.0.1:8765",
        var_dir=tmp_path / "var",
        log_dir=tmp_path / "logs",
    )
    stale.var_dir.mkdir()
    stale.log_dir.mkdir()
    try:
        stale.env = child_env(stale, redis_db=RUN_LOCAL_REDIS_DB)
        stale.manage("migrate", "--noinput", log="migrate")
        stale.manage("seed_demo", log="seed_demo")
        web_port, sim_port = free_port(), free_port()
        with (stale.log_dir / "run_local.log").open("w") as log:
            stale.processes["run_local"] = subprocess.Popen(  # noqa: S603
                [
                    *(sys.executable, "manage.py", "run_local"),
                    *("--port", str(web_port), "--simulator-port", str(sim_port)),
                ],
                cwd=BASE_DIR,
                env=stale.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        stale.web_url = f"http://127.0.0.1:{web_port}"
        _wait_until(stale, "run_local", lambda: _answers(f"{stale.web_url}/healthz"))
        _wait_until(
            stale, "run_local", lambda: " ready." in stale.log_tail("run_local", 400)
        )
        yield stale
    finally:
        stale.stop()  # its process group: run_local and every child; the database


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_run_local_ports_carry_the_push_and_its_callback(run_local, booking_day):
    # given
    base = run_local.web_url
    api = requests.Session()
    token = api.post(
        f"{base}/api/auth/token/",
        json={"username": "demo-client", "password": "hakiyetu-demo"},
        timeout=10,
    ).json()["token"]
    api.headers["Authorization"] = f"Token {token}"
    booking = _book(api, base, booking_day)

    # when
    started = time.monotonic()
    answer = _push(
        api, base, phone_number=SUCCESS_PHONE, booking_id=booking["booking_id"]
    )

    # then: the simulator on the given port took the push, and its callback
    # (the only source of a receipt) reached the web server on the given port
    assert answer.status_code == 201, answer.text
    status = _wait_final(api, base, answer.json()["CheckoutRequestID"])
    assert status["status"] == "completed", status
    assert status["mpesa_receipt_number"], (status, time.monotonic() - started)
