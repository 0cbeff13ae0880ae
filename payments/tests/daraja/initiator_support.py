"""Helpers for the tests of Reversal, B2C and Transaction Status: a client
whose initiator encrypts with the simulator's shipped test certificate."""

from __future__ import annotations

import json

from daraja_simulator.credential import CERTIFICATE_PATH
from payments.daraja.client import DarajaClient
from payments.daraja.types import InitiatorConfig
from payments.tests.daraja.support import BASE_URL, SHORTCODE, make_config

REVERSAL_URL = f"{BASE_URL}/mpesa/reversal/v1/request"
B2C_URL = f"{BASE_URL}/mpesa/b2c/v3/paymentrequest"
STATUS_URL = f"{BASE_URL}/mpesa/transactionstatus/v1/query"
INITIATOR_PASSWORD = "Init-Pass#2026&x"
B2C_PASSWORD = "B2c-Pass%2026$y"
RESULT_SECRET = "Rs7dQ2wXo9LmPq4tZb8n"
RESULT_URL = f"https://hakiyetu.example/api/payment/result/{RESULT_SECRET}"
TIMEOUT_URL = f"https://hakiyetu.example/api/payment/timeout/{RESULT_SECRET}"
B2C_SHORT_CODE = "600000"
RECEIPT = "NLJ41HAH7L"


def make_initiator(**overrides: object) -> InitiatorConfig:
    """An initiator with B2C configured; ``overrides`` replace fields."""
    values: dict = {
        "initiator_name": "hakiyetu_api",
        "password": INITIATOR_PASSWORD,
        "certificate_path": str(CERTIFICATE_PATH),
        "result_url": RESULT_URL,
        "queue_timeout_url": TIMEOUT_URL,
        "party_a": SHORTCODE,
        "b2c_short_code": B2C_SHORT_CODE,
        "b2c_initiator_name": "hakiyetu_b2c",
        "b2c_password": B2C_PASSWORD,
    }
    values.update(overrides)
    return InitiatorConfig(**values)


def make_initiator_client(cache, sleep, **overrides: object) -> DarajaClient:
    """A sandbox client with ``make_initiator(**overrides)``."""
    return DarajaClient(
        make_config(), cache=cache, sleep=sleep, initiator=make_initiator(**overrides)
    )


def sent_body(call) -> dict:
    """The JSON body of one recorded call."""
    return json.loads(call.request.body)
