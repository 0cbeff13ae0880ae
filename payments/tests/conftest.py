"""Shallow fixtures for the payments tests."""

import pytest
from rest_framework.test import APIClient

from payments.tests.fakes import FakeDarajaClient

CALLBACK_SECRET = "test-callback-secret-0123456789"
C2B_SECRET = "test-c2b-secret-9876543210"
RESULT_SECRET = "test-result-secret-5555555555"


@pytest.fixture
def fake_daraja(monkeypatch) -> FakeDarajaClient:
    """Every payments service gets this client instead of the real one:
    they all get theirs from ``payments.services.daraja_client.daraja``."""
    client = FakeDarajaClient()
    monkeypatch.setattr("payments.services.daraja_client.daraja", lambda: client)
    return client


@pytest.fixture
def refund_submission_not_queued(monkeypatch) -> None:
    """An approval queues no submission: in ``transaction=True`` tests the
    commit would run ``refund_submit_task`` at once (eager Celery), sending
    before the test's own workers do (or to the .env's MPESA_BASE_URL)."""
    monkeypatch.setattr(
        "payments.services.refunds.schedule_refund_submission",
        lambda *, refund_id: None,
    )


@pytest.fixture
def daraja_settings(settings):
    """Complete sandbox credentials for shortcode 174379 (paybill), so that
    ``get_client()`` builds a client; returns ``settings`` for more."""
    settings.MPESA_ENVIRONMENT = "sandbox"
    settings.MPESA_CONSUMER_KEY = "key"
    settings.MPESA_CONSUMER_SECRET = "secret"
    settings.MPESA_BUSINESS_SHORT_CODE = "174379"
    settings.MPESA_PASSKEY = "passkey"
    settings.MPESA_TRANSACTION_TYPE = "CustomerPayBillOnline"
    return settings


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _callback_settings(settings):
    settings.MPESA_CALLBACK_SECRET = CALLBACK_SECRET
    settings.MPESA_CALLBACK_URL = f"http://testserver{callback_url()}"
    settings.MPESA_CALLBACK_ALLOWED_IPS = []
    settings.MPESA_CALLBACK_TRUSTED_PROXIES = 0
    settings.MPESA_CALLBACK_PROXY_IPS = []
    settings.MPESA_VERIFY_CALLBACKS = False
    settings.MPESA_C2B_SECRET = C2B_SECRET
    settings.MPESA_C2B_VALIDATE = False
    settings.MPESA_RESULT_SECRET = RESULT_SECRET


def callback_url(secret: str = CALLBACK_SECRET) -> str:
    return f"/api/payment/callback/{secret}"


def c2b_url(endpoint: str, secret: str = C2B_SECRET) -> str:
    """``endpoint`` is ``validation`` or ``confirmation``."""
    return f"/api/payment/c2b/{endpoint}/{secret}"


def result_url(endpoint: str = "result", secret: str = RESULT_SECRET) -> str:
    """``endpoint`` is ``result`` or ``timeout``."""
    return f"/api/payment/{endpoint}/{secret}"
