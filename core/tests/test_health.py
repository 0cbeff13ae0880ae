import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_each_dependency(client):
    # when
    response = client.get("/healthz")
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["cache"] == "ok"
    assert set(body) == {"status", "database", "cache", "broker"}


def test_healthz_is_503_when_database_is_down(client, monkeypatch):
    # given
    from core import health

    monkeypatch.setattr(health, "_database_ok", lambda: False)
    # when
    response = client.get("/healthz")
    # then
    assert response.status_code == 503
    assert response.json()["status"] == "down"


def test_healthz_and_its_log_show_no_secret_when_the_broker_is_down(
    client, monkeypatch, settings, caplog
):
    # given: the broker refuses, with its credentialed URL in the error
    import logging

    from core import health
    from core.logging_filters import MaskPhoneNumbers

    password = "Br0ker-pass-never-logged"
    settings.MPESA_CALLBACK_SECRET = "callback-secret-never-on-healthz-0123"

    def _refuse():
        raise ConnectionRefusedError(f"amqp://hakiyetu:{password}@mq:5672// refused")

    monkeypatch.setattr(health.celery_app, "connection_for_write", _refuse)
    # when
    with caplog.at_level(logging.ERROR, logger="core.health"):
        response = client.get("/healthz")
    # then: degraded, and neither the page nor the masked log holds a secret
    assert response.json()["broker"] == "down"
    page = response.content.decode()
    assert password not in page
    assert settings.MPESA_CALLBACK_SECRET not in page
    [record] = [r for r in caplog.records if r.name == "core.health"]
    MaskPhoneNumbers().filter(record)
    logged = logging.Formatter().format(record)
    assert "amqp://hakiyetu:" in logged
    assert password not in logged
