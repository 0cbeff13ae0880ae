"""Fixtures for the Reversal, B2C and Transaction Status tests: a receiver
that records which URL (result or time-out) got each body, a caller that
builds valid initiator requests, and a paid STK receipt to work on."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from daraja_simulator import SimulatorServer
from daraja_simulator.config import SANDBOX_INITIATOR_PASSWORD
from daraja_simulator.credential import encrypt_password

from .fixtures import SHORT_CODE, DarajaCaller, start_simulator, wait_until

REVERSAL_PATH = "/mpesa/reversal/v1/request"
B2C_PATH = "/mpesa/b2c/v3/paymentrequest"
STATUS_PATH = "/mpesa/transactionstatus/v1/query"
PASSWORD = SANDBOX_INITIATOR_PASSWORD
B2C_SHORT_CODE = "600000"


class ResultReceiver:
    """Records every POST as ``(kind, body)``: kind ``result`` or ``timeout``."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                kind = "timeout" if "/timeout/" in self.path else "result"
                receiver.posts.append((kind, json.loads(self.rfile.read(length))))
                answer = b'{"ResultCode": 0, "ResultDesc": "Accepted"}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), daemon=True
        ).start()
        base = f"http://127.0.0.1:{self._httpd.server_address[1]}/api/payment"
        self.result_url = f"{base}/result/r3sult"
        self.timeout_url = f"{base}/timeout/r3sult"

    def results(self, count: int = 1, kind: str = "result") -> list[dict[str, Any]]:
        """Wait for ``count`` posts of ``kind``; their ``Result`` objects."""
        wait_until(lambda: len([p for p in self.posts if p[0] == kind]) >= count)
        return [body["Result"] for k, body in self.posts if k == kind]

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class InitiatorCaller(DarajaCaller):
    """``DarajaCaller`` plus valid Reversal, B2C and Transaction Status."""

    def __init__(self, base_url: str, callback_url: str, results: ResultReceiver):
        super().__init__(base_url, callback_url)
        self.results = results

    def _common(self, password: str) -> dict[str, Any]:
        return {
            "SecurityCredential": encrypt_password(password),
            "ResultURL": self.results.result_url,
            "QueueTimeOutURL": self.results.timeout_url,
            "Remarks": "Refund for a booking",
        }

    def reversal_body(self, receipt: str, amount: int = 3000, **overrides: Any):
        body = {
            "OriginatorConversationID": overrides.pop("originator", "hy-rf-1"),
            "Initiator": "testapi",
            "CommandID": "TransactionReversal",
            "TransactionID": receipt,
            "Amount": amount,
            "ReceiverParty": SHORT_CODE,
            "RecieverIdentifierType": "11",
            "Occasion": "",
            **self._common(overrides.pop("password", PASSWORD)),
        }
        body.update(overrides)
        return body

    def b2c_body(self, amount: int = 500, **overrides: Any) -> dict[str, Any]:
        body = {
            "OriginatorConversationID": overrides.pop("originator", "hy-b2c-1"),
            "InitiatorName": "testapi",
            "CommandID": "BusinessPayment",
            "Amount": amount,
            "PartyA": B2C_SHORT_CODE,
            "PartyB": "254708374149",
            "Occassion": "",
            **self._common(overrides.pop("password", PASSWORD)),
        }
        body.update(overrides)
        return body

    def status_body(self, **overrides: Any) -> dict[str, Any]:
        body = {
            "OriginatorConversationID": "hy-ts-1",
            "Initiator": "testapi",
            "CommandID": "TransactionStatusQuery",
            "PartyA": SHORT_CODE,
            "IdentifierType": "4",
            "Occasion": "",
            **self._common(overrides.pop("password", PASSWORD)),
        }
        body.update(overrides)
        return body

    def reverse(self, receipt: str, amount: int = 3000, **overrides: Any):
        return self.post(
            REVERSAL_PATH, self.reversal_body(receipt, amount, **overrides)
        )

    def b2c(self, amount: int = 500, **overrides: Any) -> requests.Response:
        return self.post(B2C_PATH, self.b2c_body(amount, **overrides))

    def status(self, **overrides: Any) -> requests.Response:
        return self.post(STATUS_PATH, self.status_body(**overrides))

    def paid_receipt(self, amount: int = 3000) -> str:
        """Push, wait for the payment, return its receipt."""
        checkout = self.push(Amount=amount).json()["CheckoutRequestID"]

        def receipt() -> str | None:
            for entry in self.control("GET", "ledger")["payments"]:
                if entry.get("CheckoutRequestID") == checkout:
                    return entry["receipt"]
            return None

        return wait_until(receipt)


@pytest.fixture(name="results")
def results_fixture() -> Iterator[ResultReceiver]:
    receiver = ResultReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture(name="money_sim")
def money_sim_fixture() -> Iterator[SimulatorServer]:
    server = start_simulator(result_delay=0.02)
    yield server
    server.stop()


@pytest.fixture(name="initiator")
def initiator_fixture(money_sim, receiver, results) -> InitiatorCaller:
    return InitiatorCaller(money_sim.base_url, receiver.url, results)


def parameters(result: dict[str, Any]) -> dict[str, Any]:
    """A Result's parameters as a dict."""
    items = result.get("ResultParameters", {}).get("ResultParameter", [])
    return {item["Key"]: item.get("Value") for item in items}
