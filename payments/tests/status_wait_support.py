"""Helpers of the ``?wait=`` tests: a callback delivered from another
thread while a request waits, and waking only by the signal."""

import threading

import pytest
from django.test import Client

from payments.tests.conftest import callback_url
from payments.tests.payloads import as_bytes, failure_callback, success_callback


class LateCallback(threading.Thread):
    """Posts an STK callback to the real endpoint after ``delay`` seconds."""

    def __init__(self, checkout_request_id: str, *, delay: float, ok: bool = True):
        super().__init__(daemon=True)
        make = success_callback if ok else failure_callback
        self.body = as_bytes(make(checkout_request_id))
        self.delay = delay
        self.status_code: int | None = None
        self._start_gate = threading.Event()

    def run(self) -> None:
        self._start_gate.wait(self.delay)
        response = Client().generic(
            "POST", callback_url(), self.body, content_type="application/json"
        )
        self.status_code = response.status_code


@pytest.fixture
def only_the_signal_wakes(monkeypatch) -> None:
    """Re-checks of the database a minute apart: a waiting request that
    answers within the test was woken by the wake-up."""
    monkeypatch.setattr("core.wakeups.RECHECK_EMBEDDED_SECONDS", 60.0)
    monkeypatch.setattr("core.wakeups.RECHECK_WITH_REDIS_SECONDS", 60.0)
