"""Simulator: Paybill (C2B) register URL, validation, confirmation, ledger."""

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from daraja_simulator.tests.fixtures import (  # noqa: F401 - fixtures
    SHORT_CODE,
    SUCCESS_PHONE,
    DarajaCaller,
    receiver_fixture,
    start_simulator,
    wait_until,
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
    receiver = C2BReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture(name="daraja")
def daraja_fixture(receiver) -> Iterator[DarajaCaller]:
    server = start_simulator(c2b_validation_timeout=0.3)
    yield DarajaCaller(server.base_url, receiver.url)
    server.stop()


def _register(daraja, c2b, path=V1_PATH, **overrides) -> requests.Response:
    body = {
        "ShortCode": PAYBILL,
        "ResponseType": "Completed",
        "ConfirmationURL": c2b.confirmation_url,
        "ValidationURL": c2b.validation_url,
    } | overrides
    return daraja.post(path, body)


def _pay(daraja, **overrides) -> dict[str, Any]:
    body = {
        "phone": SUCCESS_PHONE,
        "amount": 3000,
        "account": "HY-B00042",
        "short_code": PAYBILL,
    } | overrides
    return daraja.control("POST", "c2b/pay", body)


def _validation_on(daraja) -> None:
    daraja.control("POST", "c2b/validation", {"short_code": PAYBILL, "enabled": True})


@pytest.mark.parametrize("path", [V1_PATH, V2_PATH])
def test_register_answers_like_daraja(daraja, c2b, path):
    # when
    response = _register(daraja, c2b, path)

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["ResponseCode"] == "0"
    assert body["ResponseDescription"] == "Success"
    assert body["OriginatorCoversationID"]
    [registration] = daraja.control("GET", "c2b")["registrations"]
    assert registration["version"] == path.split("/")[3]
    assert registration["short_code"] == PAYBILL
    assert "s3cr3t" not in json.dumps(registration)


def test_register_needs_a_bearer_token(daraja, c2b):
    # when
    response = requests.post(
        daraja.base_url + V1_PATH, json={"ShortCode": PAYBILL}, timeout=5
    )

    # then
    assert response.status_code == 404
    assert response.json()["errorCode"] == "404.001.04"


def test_register_refuses_an_unknown_response_type(daraja, c2b):
    # when
    response = _register(daraja, c2b, ResponseType="completed")

    # then
    assert response.status_code == 400
    assert response.json()["errorMessage"] == "Bad Request - Invalid ResponseType"


def test_second_registration_replaces_the_first_by_default(daraja, c2b):
    # given
    _register(daraja, c2b, ResponseType="Completed")

    # when
    response = _register(daraja, c2b, V2_PATH, ResponseType="Cancelled")

    # then
    assert response.status_code == 200
    [registration] = daraja.control("GET", "c2b")["registrations"]
    assert (registration["version"], registration["response_type"]) == (
        "v2",
        "Cancelled",
    )


def test_second_registration_fails_in_production_style(daraja, c2b):
    # given
    daraja.control("POST", "config", {"c2b_production_style": True})
    assert _register(daraja, c2b).status_code == 200

    # when
    response = _register(daraja, c2b)

    # then
    assert response.status_code == 500
    assert response.json()["errorCode"] == "500.003.1001"
    assert response.json()["errorMessage"] == "URLs are already registered"


def test_pay_without_validation_sends_a_v1_confirmation(daraja, c2b):
    # given
    _register(daraja, c2b, V1_PATH)

    # when
    paid = _pay(daraja)

    # then
    assert paid["status"] == "completed"
    assert c2b.got("validation") == []
    [confirmation] = c2b.got("confirmation")
    assert confirmation["TransactionType"] == "Pay Bill"
    assert confirmation["TransID"] == paid["receipt"]
    assert len(confirmation["TransID"]) == 10
    assert confirmation["TransAmount"] == "3000.00"
    assert confirmation["BusinessShortCode"] == PAYBILL
    assert confirmation["BillRefNumber"] == "HY-B00042"
    assert len(confirmation["TransTime"]) == 14
    assert confirmation["OrgAccountBalance"] == "3000.00"
    expected = hashlib.sha256(SUCCESS_PHONE.encode()).hexdigest()
    assert confirmation["MSISDN"] == expected
    assert {"InvoiceNumber", "ThirdPartyTransID", "FirstName", "MiddleName"} <= set(
        confirmation
    )
    assert "LastName" in confirmation


def test_pay_sends_a_masked_msisdn_when_registered_v2(daraja, c2b):
    # given
    _register(daraja, c2b, V2_PATH)

    # when
    _pay(daraja, phone="254712345126")

    # then
    assert c2b.got("confirmation")[0]["MSISDN"] == "2547 ***** 126"


def test_accepted_validation_leads_to_confirmation(daraja, c2b):
    # given
    _register(daraja, c2b)
    _validation_on(daraja)
    c2b.replies["validation"] = {
        "ResultCode": "0",
        "ResultDesc": "Accepted",
        "ThirdPartyTransID": "HY-1",
    }

    # when
    paid = _pay(daraja)

    # then
    assert (paid["status"], paid["validation"]) == ("completed", "accepted")
    [validation] = c2b.got("validation")
    [confirmation] = c2b.got("confirmation")
    assert validation["TransID"] == confirmation["TransID"]
    assert validation["OrgAccountBalance"] == ""
    assert confirmation["ThirdPartyTransID"] == "HY-1"


@pytest.mark.parametrize("code", ["C2B00012", "C2B00013"])
def test_rejected_validation_sends_no_confirmation(daraja, c2b, code):
    # given
    _register(daraja, c2b)
    _validation_on(daraja)
    c2b.replies["validation"] = {"ResultCode": code, "ResultDesc": "Rejected"}

    # when
    paid = _pay(daraja)

    # then
    assert (paid["status"], paid["result_code"]) == ("rejected", code)
    assert len(c2b.got("validation")) == 1
    assert c2b.got("confirmation") == []
    ledger = daraja.control("GET", "ledger")
    assert ledger["paybill_successful_count"] == 0
    [entry] = [p for p in ledger["payments"] if p["channel"] == "paybill"]
    assert entry["status"] == "rejected"


@pytest.mark.parametrize(
    ("response_type", "status", "confirmations"),
    [("Completed", "completed", 1), ("Cancelled", "rejected", 0)],
)
def test_silent_validation_applies_the_response_type(
    daraja, c2b, response_type, status, confirmations
):
    # given
    _register(daraja, c2b, ResponseType=response_type)
    _validation_on(daraja)
    c2b.delays["validation"] = 1.0  # the simulator waits 0.3 s

    # when
    paid = _pay(daraja)

    # then
    assert (paid["status"], paid["validation"]) == (status, "no_answer")
    assert len(c2b.got("confirmation")) == confirmations


def test_ledger_records_paybill_payments_like_stk_ones(daraja, c2b):
    # given
    _register(daraja, c2b)

    # when
    paid = _pay(daraja, amount=150, account="hy-b7")

    # then
    ledger = daraja.control("GET", "ledger")
    assert ledger["paybill_successful_count"] == 1
    assert ledger["paybill_successful_amount"] == 150
    [entry] = [p for p in ledger["payments"] if p["channel"] == "paybill"]
    assert entry["receipt"] == paid["receipt"]
    assert (entry["amount"], entry["paid_amount"]) == (150, 150)
    assert (entry["phone"], entry["account_reference"]) == (SUCCESS_PHONE, "hy-b7")


def test_pay_refuses_an_unregistered_shortcode_and_bad_input(daraja, c2b):
    # when
    unregistered = requests.post(
        daraja.base_url + "/simulator/c2b/pay",
        json={"phone": SUCCESS_PHONE, "amount": 10, "short_code": "999999"},
        timeout=5,
    )
    bad_phone = requests.post(
        daraja.base_url + "/simulator/c2b/pay",
        json={"phone": "0712", "amount": 10, "short_code": PAYBILL},
        timeout=5,
    )

    # then
    assert unregistered.status_code == 400
    assert "999999" in unregistered.json()["error"]
    assert bad_phone.status_code == 400


def test_double_notification_confirms_stk_payments_with_their_receipt(
    daraja, c2b, receiver
):
    # given
    _register(daraja, c2b, ShortCode=SHORT_CODE)
    daraja.control("POST", "config", {"c2b_double_notification": True})

    # when
    daraja.push(Amount=3000)

    # then
    wait_until(lambda: receiver.bodies and c2b.got("confirmation"))
    items = receiver.bodies[0]["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    receipt = {i["Name"]: i.get("Value") for i in items}["MpesaReceiptNumber"]
    [confirmation] = c2b.got("confirmation")
    assert confirmation["TransID"] == receipt
    assert confirmation["BusinessShortCode"] == SHORT_CODE
    ledger = daraja.control("GET", "ledger")
    assert ledger["paybill_payments"] == 0  # the same money, not new money
    assert ledger["successful_count"] == 1


def test_no_double_notification_without_the_switch(daraja, c2b, receiver):
    # given
    _register(daraja, c2b, ShortCode=SHORT_CODE)

    # when
    daraja.push(Amount=3000)

    # then
    wait_until(lambda: receiver.bodies)
    time.sleep(0.2)
    assert c2b.got("confirmation") == []


def test_register_refuses_a_url_with_a_filtered_word(daraja, c2b):
    # when
    response = _register(
        daraja, c2b, ConfirmationURL="https://example.org/mpesa/confirm/x"
    )

    # then
    assert response.status_code == 400
    assert response.json()["errorMessage"] == "Bad Request - Invalid ConfirmationURL"


def test_request_log_masks_the_registered_url_secrets(daraja, c2b):
    # given
    _register(daraja, c2b)

    # when
    logged = daraja.control("GET", f"requests?path={V1_PATH}")["requests"]

    # then
    [entry] = logged
    assert "s3cr3t" not in json.dumps(entry)
    assert entry["headers"]["Authorization"] == "Bearer ***"


def test_reset_forgets_payments_but_keeps_registrations(daraja, c2b):
    # given
    _register(daraja, c2b)
    _pay(daraja)

    # when
    daraja.control("POST", "reset", {})

    # then
    listing = daraja.control("GET", "c2b")
    assert listing["payments"] == []
    assert len(listing["registrations"]) == 1
    daraja.control("POST", "reset", {"c2b_urls": True})
    assert daraja.control("GET", "c2b")["registrations"] == []
