"""Shared helpers for the Daraja adapter tests (holds no tests; the
fixtures built on them are in this folder's ``conftest.py``).

Realistic Daraja payloads live in ``payloads/*.json``; the helpers
build a client against the sandbox host, which ``responses`` intercepts.
"""

from __future__ import annotations

import json
from pathlib import Path

import responses
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.filebased import FileBasedCache
from responses import matchers

from payments.daraja.client import DarajaClient
from payments.daraja.types import PAYBILL, DarajaConfig, DarajaEnvironment

PAYLOADS = Path(__file__).parent / "payloads"
BASE_URL = "https://sandbox.safaricom.co.ke"
OAUTH_URL = f"{BASE_URL}/oauth/v1/generate"
PUSH_URL = f"{BASE_URL}/mpesa/stkpush/v1/processrequest"
QUERY_URL = f"{BASE_URL}/mpesa/stkpushquery/v1/query"

CONSUMER_KEY = "hky-test-consumer-key-4f1d"
CONSUMER_SECRET = "hky-test-consumer-secret-9Zq81"
# The public sandbox passkey of shortcode 174379 (daraja.md section 7).
PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
SHORTCODE = "174379"
CALLBACK_URL = "https://hakiyetu.example/payments/lnm/cb/Xf93kQ/"
TOKEN = "c9SQxWWhmdVRlyh0zh8gZDTkubVF"
PHONE = "254708374149"
CHECKOUT_ID = "ws_CO_1007202409152617172396192"


def load(name: str) -> dict:
    """Return the Daraja payload ``payloads/<name>.json``."""
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def make_config(**overrides: object) -> DarajaConfig:
    """A sandbox paybill configuration; ``overrides`` replace fields."""
    values: dict = {
        "environment": DarajaEnvironment.SANDBOX,
        "base_url": BASE_URL,
        "consumer_key": CONSUMER_KEY,
        "consumer_secret": CONSUMER_SECRET,
        "business_short_code": SHORTCODE,
        "passkey": PASSKEY,
        "transaction_type": PAYBILL,
        "party_b": "",
        "callback_url": CALLBACK_URL,
        "connect_timeout": 5.0,
        "read_timeout": 30.0,
    }
    values.update(overrides)
    return DarajaConfig(**values)


class RecordingSleep:
    """Stands in for ``time.sleep``: records the delays, waits for none."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def isolated_cache(tmp_path: Path) -> BaseCache:
    """The configured cache backend, isolated from concurrent test runs.

    A file cache is recreated under ``tmp_path`` (other runs in the same tree
    clear the shared folder); Redis and others are used as configured.
    """
    configured = caches["default"]
    if isinstance(configured, FileBasedCache):
        return FileBasedCache(str(tmp_path / "cache"), {})
    return configured


def make_client(
    cache: BaseCache, sleep: RecordingSleep | None = None, **overrides: object
) -> DarajaClient:
    """A client on ``make_config(**overrides)`` with a recording sleep."""
    return DarajaClient(
        make_config(**overrides), cache=cache, sleep=sleep or RecordingSleep()
    )


def add_token(
    rsps: responses.RequestsMock, fixture: str = "oauth_success", **kwargs: object
) -> None:
    """Register Daraja's OAuth answer (checks Basic auth and grant type)."""
    rsps.get(
        OAUTH_URL,
        json=load(fixture),
        match=[matchers.query_param_matcher({"grant_type": "client_credentials"})],
        **kwargs,
    )


def calls_to(rsps: responses.RequestsMock, url: str) -> list:
    """The recorded calls whose URL starts with ``url``."""
    return [call for call in rsps.calls if call.request.url.startswith(url)]


def push_kwargs(**overrides: object) -> dict:
    """Valid ``stk_push`` arguments; ``overrides`` replace some."""
    values: dict = {
        "phone_number": "0708 374 149",
        "amount": 1500,
        "account_reference": "BK1042",
        "transaction_desc": "Consultation",
    }
    values.update(overrides)
    return values
