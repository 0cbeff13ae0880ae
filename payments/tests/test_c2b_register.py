"""Issue 13, point 8: ``manage.py mpesa_register_c2b_urls``, against
``responses`` (Daraja's answers) and against the simulator."""

import io
import json
from collections.abc import Iterator

import pytest
import requests
import responses
from django.core.management import CommandError, call_command

from daraja_simulator import SimulatorServer
from daraja_simulator.tests.fixtures import start_simulator, use_simulator
from payments.models import PaymentEvent
from payments.tests.conftest import C2B_SECRET
from payments.tests.daraja.support import OAUTH_URL, load

pytestmark = pytest.mark.django_db
SANDBOX = "https://sandbox.safaricom.co.ke"
CONFIRMATION = f"https://hakiyetu.example/api/payment/c2b/confirmation/{C2B_SECRET}"
VALIDATION = f"https://hakiyetu.example/api/payment/c2b/validation/{C2B_SECRET}"


@pytest.fixture
def c2b_settings(daraja_settings):
    settings = daraja_settings
    settings.MPESA_BASE_URL = ""
    settings.MPESA_C2B_SHORT_CODE = "600984"
    settings.MPESA_C2B_CONFIRMATION_URL = CONFIRMATION
    settings.MPESA_C2B_VALIDATION_URL = VALIDATION
    return settings


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(OAUTH_URL, json=load("oauth_success"))
        yield mock


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("mpesa_register_c2b_urls", *args, stdout=out)
    return out.getvalue()


REGISTERED = {
    "OriginatorCoversationID": "6e86-45dd-91ac-fd5d4178ab523408729",
    "ResponseCode": "0",
    "ResponseDescription": "Success",
}


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_register_posts_both_urls_to_the_versions_endpoint(c2b_settings, rsps, version):
    # given
    rsps.post(f"{SANDBOX}/mpesa/c2b/{version}/registerurl", json=REGISTERED)
    # when
    out = run("--api-version", version, "--response-type", "Cancelled")
    # then
    sent = json.loads(rsps.calls[-1].request.body)
    assert sent == {
        "ShortCode": 600984,
        "ResponseType": "Cancelled",
        "ConfirmationURL": CONFIRMATION,
        "ValidationURL": VALIDATION,
    }
    assert "registered on 600984" in out
    assert json.loads(out.splitlines()[-1]) == REGISTERED


def test_register_stores_the_exchange_without_secrets(c2b_settings, rsps):
    # given
    rsps.post(f"{SANDBOX}/mpesa/c2b/v1/registerurl", json=REGISTERED)
    # when
    run()
    # then
    event = PaymentEvent.objects.get(operation="c2b_register")
    assert event.kind == PaymentEvent.Kind.DARAJA_EXCHANGE
    assert event.http_status == 200
    assert event.response_body == REGISTERED
    assert C2B_SECRET not in json.dumps(event.request_body)
    assert event.request_body["ShortCode"] == 600984


@pytest.mark.parametrize(
    ("status", "code", "message", "hint"),
    [
        (500, "500.003.1001", "Urls are already registered", "one-time"),
        (401, "401.003.01", "Error Occurred - Invalid Access Token - no apiproduct "
         "match found", "--api-version"),
    ],
)  # fmt: skip
def test_register_explains_darajas_two_common_refusals(
    c2b_settings, rsps, status, code, message, hint
):
    # given
    answer = {
        "requestId": "11728-2929992-1",
        "errorCode": code,
        "errorMessage": message,
    }
    rsps.post(f"{SANDBOX}/mpesa/c2b/v1/registerurl", status=status, json=answer)
    # when
    with pytest.raises(CommandError) as excinfo:
        run()
    # then
    text = str(excinfo.value)
    assert f"Daraja refused: {code} {message}" in text
    assert hint in text


@pytest.mark.parametrize(
    ("setting", "url", "problem"),
    [
        ("MPESA_C2B_CONFIRMATION_URL", "", "MPESA_C2B_CONFIRMATION_URL is not set"),
        (
            "MPESA_C2B_VALIDATION_URL",
            "https://hakiyetu.example/mpesa/v/" + C2B_SECRET,
            "MPESA_C2B_VALIDATION_URL contains 'mpesa'",
        ),
        (
            "MPESA_C2B_VALIDATION_URL",
            "https://hakiyetu.example/api/payment/c2b/validation/other",
            "MPESA_C2B_VALIDATION_URL does not end in MPESA_C2B_SECRET",
        ),
    ],
)
def test_register_refuses_unusable_urls_before_sending(
    c2b_settings, rsps, setting, url, problem
):
    # given
    setattr(c2b_settings, setting, url)
    # when
    with pytest.raises(CommandError) as excinfo:
        run()
    # then
    assert problem in str(excinfo.value)
    assert len(rsps.calls) == 0


def test_register_in_production_wants_https(c2b_settings, rsps):
    # given
    c2b_settings.MPESA_ENVIRONMENT = "production"
    c2b_settings.MPESA_C2B_CONFIRMATION_URL = CONFIRMATION.replace("https", "http")
    # when
    with pytest.raises(CommandError) as excinfo:
        run()
    # then
    assert "MPESA_C2B_CONFIRMATION_URL is not https" in str(excinfo.value)


@pytest.fixture
def simulator(settings) -> Iterator[SimulatorServer]:
    server = start_simulator()
    use_simulator(settings, server)
    settings.MPESA_C2B_SHORT_CODE = "600984"
    settings.MPESA_C2B_CONFIRMATION_URL = CONFIRMATION
    settings.MPESA_C2B_VALIDATION_URL = VALIDATION
    yield server
    server.stop()


def _registrations(server: SimulatorServer) -> list[dict]:
    listing = requests.get(f"{server.base_url}/simulator/c2b", timeout=5).json()
    return listing["registrations"]


def test_register_against_the_simulator_stores_the_urls(simulator):
    # when
    out = run("--api-version", "v2")
    # then
    assert "Daraja answered" in out
    [registration] = _registrations(simulator)
    assert (registration["short_code"], registration["version"]) == ("600984", "v2")
    assert registration["response_type"] == "Completed"


def test_second_production_style_registration_is_explained(simulator):
    # given
    requests.post(
        f"{simulator.base_url}/simulator/config",
        json={"c2b_production_style": True},
        timeout=5,
    )
    run()
    # when
    with pytest.raises(CommandError) as excinfo:
        run()
    # then
    assert "500.003.1001" in str(excinfo.value)
    assert "self-service URL management" in str(excinfo.value)
