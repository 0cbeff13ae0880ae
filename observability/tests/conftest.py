"""Fixtures for the observability tests: the payments tests' callback
settings and clients, and reading a /metrics body."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from payments.tests.conftest import (  # noqa: F401  (fixtures reused here)
    _callback_settings,
    api_client,
    daraja_settings,
    fake_daraja,
)

METRICS_TOKEN = "metrics-token-for-tests-0123456789abcdef"


@pytest.fixture(autouse=True)
def _metrics_settings(settings):
    settings.METRICS_TOKEN = METRICS_TOKEN
    settings.METRICS_ALLOWED_IPS = []
    settings.NUM_PROXIES = 0
    settings.DEBUG = False


def scrape(client) -> str:
    """The /metrics body, read with the token."""
    response = client.get(
        "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    assert response.status_code == 200
    return response.content.decode()


def sample(body: str, name: str, **labels: str) -> float:
    """The value of sample ``name`` with exactly ``labels`` (0.0 when
    absent: a counter never incremented is not exposed)."""
    for family in text_string_to_metric_families(body):
        for item in family.samples:
            if item.name == name and item.labels == labels:
                return item.value
    return 0.0


def family_names(body: str) -> set[str]:
    return {family.name for family in text_string_to_metric_families(body)}
