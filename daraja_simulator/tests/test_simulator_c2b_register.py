"""Simulator: C2B register URL (v1, v2), duplicates, masking, reset."""

import json

import pytest
import requests

from daraja_simulator.tests.c2b_fixtures import (  # noqa: F401 - fixtures
    PAYBILL,
    V1_PATH,
    V2_PATH,
    c2b_daraja_fixture,
    c2b_fixture,
    pay,
    register,
)
from daraja_simulator.tests.fixtures import (  # noqa: F401 - fixtures
    receiver_fixture,
)


@pytest.mark.parametrize("path", [V1_PATH, V2_PATH])
def test_register_answers_like_daraja(daraja, c2b, path):
    # when
    response = register(daraja, c2b, path)

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["ResponseCode"] == "0"
    assert body["ResponseDescription"] == "Success"
    assert body["OriginatorCoversationID"]
    [registration] = daraja.control("GET", "c2b")["registrations"]
    assert registration["version"] == path.split("/")[3]
    assert registration["short_code"] == PAYBILL
    assert "s3cr3t" not in json.dumps(registration)


def test_register_needs_a_bearer_token(daraja, c2b):
    # when
    response = requests.post(
        daraja.base_url + V1_PATH, json={"ShortCode": PAYBILL}, timeout=5
    )

    # then
    assert response.status_code == 404
    assert response.json()["errorCode"] == "404.001.04"


def test_register_refuses_an_unknown_response_type(daraja, c2b):
    # when
    response = register(daraja, c2b, ResponseType="completed")

    # then
    assert response.status_code == 400
    assert response.json()["errorMessage"] == "Bad Request - Invalid ResponseType"


def test_second_registration_replaces_the_first_by_default(daraja, c2b):
    # given
    register(daraja, c2b, ResponseType="Completed")

    # when
    response = register(daraja, c2b, V2_PATH, ResponseType="Cancelled")

    # then
    assert response.status_code == 200
    [registration] = daraja.control("GET", "c2b")["registrations"]
    assert (registration["version"], registration["response_type"]) == (
        "v2",
        "Cancelled",
    )


def test_second_registration_fails_in_production_style(daraja, c2b):
    # given
    daraja.control("POST", "config", {"c2b_production_style": True})
    assert register(daraja, c2b).status_code == 200

    # when
    response = register(daraja, c2b)

    # then
    assert response.status_code == 500
    assert response.json()["errorCode"] == "500.003.1001"
    assert response.json()["errorMessage"] == "URLs are already registered"


def test_register_refuses_a_url_with_a_filtered_word(daraja, c2b):
    # when
    response = register(
        daraja, c2b, ConfirmationURL="https://example.org/mpesa/confirm/x"
    )

    # then
    assert response.status_code == 400
    assert response.json()["errorMessage"] == "Bad Request - Invalid ConfirmationURL"


def test_request_log_masks_the_registered_url_secrets(daraja, c2b):
    # given
    register(daraja, c2b)

    # when
    logged = daraja.control("GET", f"requests?path={V1_PATH}")["requests"]

    # then
    [entry] = logged
    assert "s3cr3t" not in json.dumps(entry)
    assert entry["headers"]["Authorization"] == "Bearer ***"


def test_reset_forgets_payments_but_keeps_registrations(daraja, c2b):
    # given
    register(daraja, c2b)
    pay(daraja)

    # when
    daraja.control("POST", "reset", {})

    # then
    listing = daraja.control("GET", "c2b")
    assert listing["payments"] == []
    assert len(listing["registrations"]) == 1
    daraja.control("POST", "reset", {"c2b_urls": True})
    assert daraja.control("GET", "c2b")["registrations"] == []
