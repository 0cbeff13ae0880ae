import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def throttle_rate(monkeypatch):
    """Set one throttle scope's rate for this test (restored after)."""
    from rest_framework.throttling import SimpleRateThrottle

    def set_rate(scope: str, rate: str) -> None:
        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, rate)

    return set_rate
