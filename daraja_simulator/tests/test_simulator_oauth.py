"""Simulator: OAuth checks, token shape and token invalidation."""

import requests

from daraja_simulator.tests.fixtures import (  # noqa: F401 - fixtures
    KEY,
    OAUTH_PATH,
    SECRET,
    daraja_fixture,
    receiver_fixture,
    simulator_fixture,
)


def test_oauth_issues_token_with_string_expiry(daraja):
    # when
    response = daraja.get_token()

    # then
    assert response.status_code == 200
    body = response.json()
    assert len(body["access_token"]) == 28
    assert body["expires_in"] == "3599"


def test_oauth_wrong_secret_is_400_008_01(daraja):
    # when
    response = daraja.get_token(auth=(KEY, "wrong"))

    # then
    assert response.status_code == 400
    body = response.json()
    assert body["errorCode"] == "400.008.01"
    assert body["errorMessage"] == "Invalid Authentication passed"
    assert set(body) == {"requestId", "errorCode", "errorMessage"}


def test_oauth_without_basic_auth_is_invalid_authentication_type(daraja):
    # when
    response = requests.get(
        daraja.base_url + OAUTH_PATH,
        params={"grant_type": "client_credentials"},
        headers={"Authorization": "Bearer x"},
        timeout=5,
    )

    # then
    assert response.status_code == 400
    assert response.json()["errorMessage"] == "Invalid authentication type passed"


def test_oauth_wrong_grant_type_is_400_008_02(daraja):
    # when
    response = requests.get(
        daraja.base_url + OAUTH_PATH,
        params={"grant_type": "client_credentials "},
        auth=(KEY, SECRET),
        timeout=5,
    )

    # then
    assert response.status_code == 400
    assert response.json()["errorCode"] == "400.008.02"


def test_oauth_new_token_invalidates_previous(daraja):
    # given
    old = daraja.get_token().json()["access_token"]
    daraja.get_token()

    # when
    response = daraja.post(
        "/mpesa/stkpush/v1/processrequest",
        daraja.push_body(),
        Authorization=f"Bearer {old}",
    )

    # then
    assert response.status_code == 404
    assert response.json()["errorCode"] == "404.001.03"
    assert response.json()["errorMessage"] == "Invalid Access Token"


def test_oauth_previous_token_kept_when_configured(daraja):
    # given
    daraja.control("POST", "config", {"invalidate_previous_tokens": False})
    old = daraja.get_token().json()["access_token"]
    daraja.get_token()

    # when
    response = daraja.post(
        "/mpesa/stkpush/v1/processrequest",
        daraja.push_body(),
        Authorization=f"Bearer {old}",
    )

    # then
    assert response.status_code == 200


def test_oauth_expired_token_is_invalid(daraja):
    # given
    daraja.control("POST", "config", {"token_lifetime": 0})

    # when
    response = daraja.push()

    # then
    assert response.json()["errorCode"] == "404.001.03"


def test_oauth_requests_are_logged(daraja):
    # given
    daraja.get_token()
    daraja.get_token(auth=(KEY, "wrong"))

    # when
    log = daraja.control("GET", f"requests?path={OAUTH_PATH}")

    # then
    assert log["count"] == 2
    assert [e["response_status"] for e in log["requests"]] == [200, 400]
    assert log["requests"][0]["headers"]["Authorization"].startswith("Basic ")
