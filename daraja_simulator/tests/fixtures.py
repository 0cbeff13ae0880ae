"""Shared fixtures for the simulator tests (imported by test_simulator_*).

Fixture functions are named ``*_fixture`` and registered under the short
name, so importing them does not clash with test parameters.

The simulator runs in-process on a free port; a tiny HTTP receiver on
another free port stands in for our callback endpoint.
"""

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from daraja_simulator import SimulatorConfig, SimulatorServer

KEY, SECRET = "test-key", "test-secret"
SHORT_CODE = "174379"
PASSKEY = "test-passkey"
SUCCESS_PHONE = "254708374149"
PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
QUERY_PATH = "/mpesa/stkpushquery/v1/query"
OAUTH_PATH = "/oauth/v1/generate"


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll ``predicate`` until it is truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


class CallbackReceiver:
    """Records every POST; answers ``status`` with a small JSON body."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                answer = b'{"ResultCode": 0, "ResultDesc": "Accepted"}'
                self.send_response(receiver.status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), daemon=True
        ).start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/payments/cb/t0k"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class DarajaCaller:
    """Builds valid Daraja requests against the simulator, over HTTP."""

    def __init__(self, base_url: str, callback_url: str) -> None:
        self.base_url = base_url
        self.callback_url = callback_url
        self._token: str | None = None

    def get_token(self, auth: tuple[str, str] = (KEY, SECRET)) -> requests.Response:
        return requests.get(
            self.base_url + OAUTH_PATH,
            params={"grant_type": "client_credentials"},
            auth=auth,
            timeout=5,
        )

    @property
    def token(self) -> str:
        if self._token is None:
            self._token = self.get_token().json()["access_token"]
        return self._token

    @staticmethod
    def timestamp() -> str:
        return datetime.now(ZoneInfo("Africa/Nairobi")).strftime("%Y%m%d%H%M%S")

    @staticmethod
    def password(timestamp: str, short_code: str = SHORT_CODE) -> str:
        return base64.b64encode(f"{short_code}{PASSKEY}{timestamp}".encode()).decode()

    def push_body(self, **overrides: Any) -> dict[str, Any]:
        stamp = self.timestamp()
        phone = overrides.pop("phone", SUCCESS_PHONE)
        body = {
            "BusinessShortCode": SHORT_CODE,
            "Password": self.password(stamp),
            "Timestamp": stamp,
            "TransactionType": "CustomerPayBillOnline",
            "Amount": 3000,
            "PartyA": phone,
            "PartyB": SHORT_CODE,
            "PhoneNumber": phone,
            "CallBackURL": self.callback_url,
            "AccountReference": "HY-B00042",
            "TransactionDesc": "Consultation",
        }
        body.update(overrides)
        return body

    def post(self, path: str, body: Any, **headers: str) -> requests.Response:
        sent = {"Authorization": f"Bearer {self.token}", **headers}
        return requests.post(self.base_url + path, json=body, headers=sent, timeout=5)

    def push(self, **overrides: Any) -> requests.Response:
        return self.post(PUSH_PATH, self.push_body(**overrides))

    def query(self, checkout_request_id: str) -> requests.Response:
        stamp = self.timestamp()
        body = {
            "BusinessShortCode": SHORT_CODE,
            "Password": self.password(stamp),
            "Timestamp": stamp,
            "CheckoutRequestID": checkout_request_id,
        }
        return self.post(QUERY_PATH, body)

    def control(self, method: str, name: str, body: Any = None) -> Any:
        response = requests.request(
            method, f"{self.base_url}/simulator/{name}", json=body, timeout=5
        )
        return response.json()


@pytest.fixture(name="receiver")
def receiver_fixture() -> Iterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    yield receiver
    receiver.stop()


def start_simulator(**overrides: Any) -> SimulatorServer:
    """An in-process simulator on a free port with the test credentials:
    quick callbacks (50 ms) and prompts over in 100 ms unless overridden."""
    config = {
        "consumer_key": KEY,
        "consumer_secret": SECRET,
        "short_code": SHORT_CODE,
        "passkey": PASSKEY,
        "port": 0,
        "callback_delay": 0.05,
        "stk_lifetime": 0.1,
        "seed": 7,
    }
    server = SimulatorServer(SimulatorConfig(**(config | overrides)))
    server.start()
    return server


def use_simulator(settings, server: SimulatorServer) -> None:
    """Point our Daraja settings (pytest-django ``settings``) at ``server``."""
    settings.MPESA_ENVIRONMENT = "sandbox"
    settings.MPESA_BASE_URL = server.base_url
    settings.MPESA_CONSUMER_KEY = KEY
    settings.MPESA_CONSUMER_SECRET = SECRET
    settings.MPESA_BUSINESS_SHORT_CODE = SHORT_CODE
    settings.MPESA_PASSKEY = PASSKEY
    settings.MPESA_TRANSACTION_TYPE = "CustomerPayBillOnline"


@pytest.fixture(name="simulator")
def simulator_fixture() -> Iterator[SimulatorServer]:
    server = start_simulator(late_callback_delay=0.4)
    yield server
    server.stop()


@pytest.fixture(name="daraja")
def daraja_fixture(
    simulator: SimulatorServer, receiver: CallbackReceiver
) -> DarajaCaller:
    return DarajaCaller(simulator.base_url, receiver.url)
