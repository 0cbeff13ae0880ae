"""Deploy checks for /metrics and the alert channels."""

import pytest

from observability.checks import check_metrics_and_alerts


def _ids() -> list[str]:
    return [warning.id for warning in check_metrics_and_alerts(None)]


@pytest.fixture
def configured(settings, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    settings.METRICS_TOKEN = "t" * 40
    settings.METRICS_ALLOWED_IPS = []
    settings.ALERT_EMAILS = ["ops@hakiyetu.test"]
    settings.ALERT_WEBHOOK_URL = ""
    return settings


def test_configured_metrics_and_alerts_raise_no_warning(configured):
    assert _ids() == []


def test_unreachable_metrics_warn(configured):
    # given
    configured.METRICS_TOKEN = ""
    # then
    assert _ids() == ["observability.W001"]


def test_an_allowlist_alone_is_enough(configured):
    # given
    configured.METRICS_TOKEN = ""
    configured.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    # then
    assert _ids() == []


@pytest.mark.parametrize("everyone", ["0.0.0.0/0", "::/0"])
def test_an_allowlist_admitting_everyone_warns(configured, everyone):
    # given
    configured.METRICS_ALLOWED_IPS = [everyone]
    # then
    assert _ids() == ["observability.W002"]


def test_a_short_token_warns(configured):
    # given
    configured.METRICS_TOKEN = "short"
    # then
    assert _ids() == ["observability.W002"]


def test_no_alert_channel_warns(configured):
    # given
    configured.ALERT_EMAILS = []
    # then
    assert _ids() == ["observability.W003"]


def test_a_missing_multiprocess_folder_warns(configured, monkeypatch, tmp_path):
    # given
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "absent"))
    # then
    assert _ids() == ["observability.W004"]


def test_an_existing_multiprocess_folder_is_fine(configured, monkeypatch, tmp_path):
    # given
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    # then
    assert _ids() == []
