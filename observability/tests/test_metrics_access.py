"""Who may read /metrics: the token's bearer or an allowed address; everyone
else gets the project's JSON 404."""

import pytest

from observability.tests.conftest import METRICS_TOKEN

pytestmark = pytest.mark.django_db
NOT_FOUND = {"error": {"code": "not_found", "message": "Not found."}}


def test_metrics_with_the_token_answers_the_prometheus_text_format(client):
    # when
    response = client.get(
        "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert b"# TYPE hakiyetu_payments_open gauge" in response.content


def test_metrics_with_a_wrong_token_is_not_found(client):
    # when
    response = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    # then
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_metrics_with_the_token_under_another_scheme_is_not_found(client):
    # when
    response = client.get("/metrics", headers={"Authorization": METRICS_TOKEN})
    # then
    assert response.status_code == 404


def test_metrics_without_credentials_is_not_found(client):
    # when
    response = client.get("/metrics")
    # then
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_metrics_from_an_allowed_address_needs_no_token(client, settings):
    # given
    settings.METRICS_ALLOWED_IPS = ["10.0.0.7"]
    # when
    response = client.get("/metrics", REMOTE_ADDR="10.0.0.7")
    # then
    assert response.status_code == 200


def test_metrics_from_inside_an_allowed_cidr_is_served(client, settings):
    # given
    settings.METRICS_ALLOWED_IPS = ["10.1.0.0/16"]
    # when
    inside = client.get("/metrics", REMOTE_ADDR="10.1.200.3")
    outside = client.get("/metrics", REMOTE_ADDR="10.2.0.1")
    # then
    assert inside.status_code == 200
    assert outside.status_code == 404


def test_metrics_ignores_a_forged_forwarded_for_without_proxies(client, settings):
    # given: no proxies in front of the app
    settings.METRICS_ALLOWED_IPS = ["10.0.0.7"]
    # when
    response = client.get(
        "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.0.0.7"
    )
    # then
    assert response.status_code == 404


def test_metrics_reads_the_client_behind_our_proxy(client, settings):
    # given: one proxy that appends the client's address
    settings.METRICS_ALLOWED_IPS = ["10.0.0.7"]
    settings.NUM_PROXIES = 1
    # when
    response = client.get(
        "/metrics", REMOTE_ADDR="172.16.0.2", HTTP_X_FORWARDED_FOR="10.0.0.7"
    )
    # then
    assert response.status_code == 200


def test_metrics_with_nothing_set_opens_to_loopback_only_under_debug(client, settings):
    # given
    settings.METRICS_TOKEN = ""
    settings.DEBUG = True
    # when
    local = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    remote = client.get("/metrics", REMOTE_ADDR="192.0.2.1")
    # then
    assert local.status_code == 200
    assert remote.status_code == 404


def test_metrics_with_nothing_set_is_closed_without_debug(client, settings):
    # given
    settings.METRICS_TOKEN = ""
    # when
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    # then
    assert response.status_code == 404


def test_metrics_with_an_empty_token_setting_refuses_an_empty_bearer(client, settings):
    # given
    settings.METRICS_TOKEN = ""
    # when
    response = client.get("/metrics", headers={"Authorization": "Bearer "})
    # then
    assert response.status_code == 404


def test_metrics_refuses_post(client):
    # when
    response = client.post(
        "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    # then
    assert response.status_code == 405
