"""Fixtures and helpers for the C2B (Paybill) simulator tests.

``C2BReceiver`` stands in for our validation and confirmation URLs; the
``daraja`` fixture here starts a simulator whose validation timeout is
0.3 s instead of Daraja's 8 s.
"""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from daraja_simulator.tests.fixtures import (
    SUCCESS_PHONE,
    DarajaCaller,
    start_simulator,
)

V1_PATH = "/mpesa/c2b/v1/registerurl"
V2_PATH = "/mpesa/c2b/v2/registerurl"
PAYBILL = "600984"


class C2BReceiver:
    """Our validation and confirmation URLs: records bodies per path and
    answers ``replies[path]`` after ``delays[path]`` seconds."""

    def __init__(self) -> None:
        self.bodies: dict[str, list[dict[str, Any]]] = {}
        self.replies: dict[str, dict[str, Any]] = {}
        self.delays: dict[str, float] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                name = self.path.split("/")[2]
                receiver.bodies.setdefault(name, []).append(
                    json.loads(self.rfile.read(length))
                )
                time.sleep(receiver.delays.get(name, 0.0))
                reply = receiver.replies.get(
                    name, {"ResultCode": "0", "ResultDesc": "Accepted"}
                )
                answer = json.dumps(reply).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    return  # the simulator stopped waiting

            def log_message(self, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), daemon=True
        ).start()
        base = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self.validation_url = f"{base}/c2b/validation/s3cr3t"
        self.confirmation_url = f"{base}/c2b/confirmation/s3cr3t"

    def got(self, name: str) -> list[dict[str, Any]]:
        return self.bodies.get(name, [])

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture(name="c2b")
def c2b_fixture() -> Iterator[C2BReceiver]:
    """Our validation and confirmation URLs."""
    receiver = C2BReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture(name="daraja")
def c2b_daraja_fixture(receiver) -> Iterator[DarajaCaller]:
    """A caller against a simulator with a 0.3 s validation timeout."""
    server = start_simulator(c2b_validation_timeout=0.3)
    yield DarajaCaller(server.base_url, receiver.url)
    server.stop()


def register(daraja, c2b, path=V1_PATH, **overrides) -> requests.Response:
    """Register ``c2b``'s URLs for PAYBILL (or ``overrides``)."""
    body = {
        "ShortCode": PAYBILL,
        "ResponseType": "Completed",
        "ConfirmationURL": c2b.confirmation_url,
        "ValidationURL": c2b.validation_url,
    } | overrides
    return daraja.post(path, body)


def pay(daraja, **overrides) -> dict[str, Any]:
    """``POST /simulator/c2b/pay`` for 3000 to PAYBILL; the JSON answer."""
    body = {
        "phone": SUCCESS_PHONE,
        "amount": 3000,
        "account": "HY-B00042",
        "short_code": PAYBILL,
    } | overrides
    return daraja.control("POST", "c2b/pay", body)


def validation_on(daraja) -> None:
    """Switch external validation on for PAYBILL."""
    daraja.control("POST", "c2b/validation", {"short_code": PAYBILL, "enabled": True})
