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
    from hakiyetu import health

    monkeypatch.setattr(health, "_database_ok", lambda: False)
    # when
    response = client.get("/healthz")
    # then
    assert response.status_code == 503
    assert response.json()["status"] == "down"
