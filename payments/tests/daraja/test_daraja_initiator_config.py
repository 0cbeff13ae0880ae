"""The initiator's settings, and what is stored or logged of its secrets."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured

from daraja_simulator.config import SANDBOX_INITIATOR_PASSWORD
from daraja_simulator.credential import CERTIFICATE_PATH
from hakiyetu.localenv import local_env_lines
from payments.daraja.client import get_client
from payments.daraja.exceptions import DarajaConfigurationError, DarajaOutcomeUnknown
from payments.daraja.security import load_certificate
from payments.daraja.types import (
    b2c_configured,
    initiator_config_from_settings,
)
from payments.tests.daraja.initiator_support import (
    B2C_PASSWORD,
    INITIATOR_PASSWORD,
    RESULT_SECRET,
    REVERSAL_URL,
    make_initiator,
    make_initiator_client,
)
from payments.tests.daraja.support import add_token, load

ROOT = Path(__file__).resolve().parents[3]


def _initiator_settings(settings) -> None:
    settings.MPESA_INITIATOR_NAME = "hakiyetu_api"
    settings.MPESA_INITIATOR_PASSWORD = INITIATOR_PASSWORD
    settings.MPESA_CERTIFICATE_PATH = "/etc/mpesa/production.cer"
    settings.MPESA_BUSINESS_SHORT_CODE = "174379"
    settings.MPESA_RESULT_URL = "https://h.example/api/payment/result/s"
    settings.MPESA_QUEUE_TIMEOUT_URL = "https://h.example/api/payment/timeout/s"
    settings.MPESA_REVERSAL_RECEIVER_IDENTIFIER_TYPE = "4"
    settings.MPESA_B2C_SHORT_CODE = ""
    settings.MPESA_B2C_INITIATOR_NAME = ""
    settings.MPESA_B2C_INITIATOR_PASSWORD = ""


def test_initiator_config_from_settings_reads_every_setting(settings):
    # given the initiator's settings
    _initiator_settings(settings)

    # when they are read
    config = initiator_config_from_settings(settings)

    # then they are all there, and B2C is off
    assert config.initiator_name == "hakiyetu_api"
    assert config.password == INITIATOR_PASSWORD
    assert config.party_a == "174379"
    assert config.reversal_receiver_identifier_type == "4"
    assert config.b2c_configured is False
    assert b2c_configured(settings) is False


def test_initiator_config_from_settings_names_every_missing_setting(settings):
    _initiator_settings(settings)
    settings.MPESA_INITIATOR_PASSWORD = ""
    settings.MPESA_CERTIFICATE_PATH = ""
    with pytest.raises(ImproperlyConfigured) as caught:
        initiator_config_from_settings(settings)
    assert "MPESA_INITIATOR_PASSWORD" in str(caught.value)
    assert "MPESA_CERTIFICATE_PATH" in str(caught.value)


def test_b2c_configured_needs_all_three_settings(settings):
    _initiator_settings(settings)
    settings.MPESA_B2C_SHORT_CODE = "600000"
    settings.MPESA_B2C_INITIATOR_NAME = "hakiyetu_b2c"
    assert b2c_configured(settings) is False
    settings.MPESA_B2C_INITIATOR_PASSWORD = B2C_PASSWORD
    assert b2c_configured(settings) is True
    assert initiator_config_from_settings(settings).b2c_configured is True


def test_initiator_config_repr_hides_the_passwords():
    text = repr(make_initiator())
    assert INITIATOR_PASSWORD not in text
    assert B2C_PASSWORD not in text
    assert "hakiyetu_api" in text


def test_get_client_without_initiator_settings_still_pushes_but_refuses_refunds(
    settings, rsps
):
    # given STK settings only
    settings.MPESA_INITIATOR_NAME = ""
    client = get_client()

    # when a reversal is asked for
    with pytest.raises(DarajaConfigurationError, match="MPESA_INITIATOR_NAME"):
        client.reversal(
            transaction_id="NLJ41HAH7L",
            amount=100,
            originator_conversation_id="hy-rf-1",
            remarks="Refund",
        )

    # then nothing was sent
    assert len(rsps.calls) == 0


def test_exchange_stored_has_no_credential_password_or_result_secret(
    rsps, cache, sleep, caplog
):
    # given a recorder of every exchange
    exchanges = []
    add_token(rsps)
    rsps.post(REVERSAL_URL, json=load("async_accepted"))
    client = make_initiator_client(cache, sleep)

    # when a reversal is made
    with caplog.at_level(logging.DEBUG):
        client.reversal(
            transaction_id="NLJ41HAH7L",
            amount=100,
            originator_conversation_id="hy-rf-1",
            remarks="Refund",
            on_exchange=exchanges.append,
        )

    # then the stored body has the credential redacted, the URLs' secret too
    sent = rsps.calls[-1].request.body.decode()
    credential = json.loads(sent)["SecurityCredential"]
    stored = [e for e in exchanges if e.operation == "reversal"][0]
    assert stored.request_body["SecurityCredential"] == "[redacted]"
    for secret in (credential, INITIATOR_PASSWORD, RESULT_SECRET):
        assert secret not in repr(exchanges)
        assert secret not in caplog.text


def test_exchange_of_a_failed_reversal_keeps_no_credential(rsps, cache, sleep):
    exchanges = []
    add_token(rsps)
    rsps.post(REVERSAL_URL, body=requests.ReadTimeout("read timed out"))
    client = make_initiator_client(cache, sleep)
    with pytest.raises(DarajaOutcomeUnknown):
        client.reversal(
            transaction_id="NLJ41HAH7L",
            amount=100,
            originator_conversation_id="hy-rf-1",
            remarks="Refund",
            on_exchange=exchanges.append,
        )
    stored = [e for e in exchanges if e.operation == "reversal"][0]
    assert stored.error is not None
    assert stored.request_body["SecurityCredential"] == "[redacted]"
    assert INITIATOR_PASSWORD not in repr(stored)


def _settings_value(name: str, **env: str) -> str:
    script = f"from django.conf import settings; print(settings.{name})"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MPESA_")}
    clean.update(env, DJANGO_SETTINGS_MODULE="hakiyetu.settings")
    result = subprocess.run(  # noqa: S603 - our interpreter, fixed argv
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip()


def test_result_urls_default_to_the_callback_host_and_the_result_secret():
    # given a callback URL and a result secret, no result URLs
    env = {
        "MPESA_CALLBACK_URL": "https://api.hakiyetu.example/api/payment/callback/cb",
        "MPESA_CALLBACK_SECRET": "cb",
        "MPESA_RESULT_SECRET": "Rs7dQ2wXo9",
        "MPESA_RESULT_URL": "",
        "MPESA_QUEUE_TIMEOUT_URL": "",
    }

    # then both are built on the callback's host, ending in the secret
    assert _settings_value("MPESA_RESULT_URL", **env) == (
        "https://api.hakiyetu.example/api/payment/result/Rs7dQ2wXo9"
    )
    assert _settings_value("MPESA_QUEUE_TIMEOUT_URL", **env) == (
        "https://api.hakiyetu.example/api/payment/timeout/Rs7dQ2wXo9"
    )


def test_local_env_encrypts_with_the_simulator_certificate():
    # given the variables `make run` writes
    lines = dict(line.partition("=")[::2] for line in local_env_lines()[1:])

    # then the initiator is the simulator's, with its shipped certificate,
    # and the result secret is generated
    path = _settings_value(
        "MPESA_CERTIFICATE_PATH",
        MPESA_CERTIFICATE_PATH=lines["MPESA_CERTIFICATE_PATH"],
    )
    assert load_certificate(path) == CERTIFICATE_PATH.read_bytes()
    assert lines["MPESA_INITIATOR_PASSWORD"] == SANDBOX_INITIATOR_PASSWORD
    assert len(lines["MPESA_RESULT_SECRET"]) >= 32
