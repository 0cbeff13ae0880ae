"""get_client(): configuration from Django settings, read at call time."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from payments.daraja.client import DarajaClient, get_client
from payments.daraja.types import DarajaEnvironment


@pytest.fixture
def mpesa_settings(daraja_settings):
    settings = daraja_settings
    settings.MPESA_BASE_URL = ""
    settings.MPESA_PARTY_B = ""
    settings.MPESA_CALLBACK_URL = "https://hakiyetu.example/payments/lnm/cb/x/"
    settings.MPESA_CONNECT_TIMEOUT = 4.0
    settings.MPESA_READ_TIMEOUT = 20.0
    return settings


def test_get_client_reads_settings_at_call_time(mpesa_settings):
    # given settings changed after the module was imported
    mpesa_settings.MPESA_BUSINESS_SHORT_CODE = "600000"

    # when a client is built
    client = get_client()

    # then it uses the current values
    assert isinstance(client, DarajaClient)
    config = client.config
    assert config.business_short_code == "600000"
    assert config.environment is DarajaEnvironment.SANDBOX
    assert config.base_url == "https://sandbox.safaricom.co.ke"
    assert config.timeout == (4.0, 20.0)


def test_get_client_production_host(mpesa_settings):
    # given the production environment
    mpesa_settings.MPESA_ENVIRONMENT = "production"

    # when / then the production host is used
    assert get_client().config.base_url == "https://api.safaricom.co.ke"


def test_get_client_base_url_overrides_the_environment(mpesa_settings):
    # given MPESA_BASE_URL pointing at the local simulator
    mpesa_settings.MPESA_BASE_URL = "http://127.0.0.1:8765/"

    # when / then it replaces the environment's host
    assert get_client().config.base_url == "http://127.0.0.1:8765"


def test_get_client_names_every_missing_setting(mpesa_settings):
    # given three settings empty or absent
    mpesa_settings.MPESA_CONSUMER_KEY = ""
    mpesa_settings.MPESA_PASSKEY = None
    del mpesa_settings.MPESA_CONSUMER_SECRET

    # when a client is built
    with pytest.raises(ImproperlyConfigured) as excinfo:
        get_client()

    # then the error names all of them
    message = str(excinfo.value)
    for name in ("MPESA_CONSUMER_KEY", "MPESA_CONSUMER_SECRET", "MPESA_PASSKEY"):
        assert name in message


def test_get_client_till_needs_party_b(mpesa_settings):
    # given a till without its till number
    mpesa_settings.MPESA_TRANSACTION_TYPE = "CustomerBuyGoodsOnline"

    # when / then MPESA_PARTY_B is named
    with pytest.raises(ImproperlyConfigured, match="MPESA_PARTY_B"):
        get_client()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MPESA_ENVIRONMENT", "staging"),
        ("MPESA_TRANSACTION_TYPE", "CustomerPayMerchant"),
        ("MPESA_BUSINESS_SHORT_CODE", "17 4379"),
        ("MPESA_READ_TIMEOUT", "soon"),
        ("MPESA_CONNECT_TIMEOUT", 0),
        ("MPESA_PARTY_B", "till 88"),
    ],
)
def test_get_client_refuses_invalid_settings(mpesa_settings, name, value):
    # given one invalid setting
    setattr(mpesa_settings, name, value)

    # when / then the client is not built, and the setting is named
    with pytest.raises(ImproperlyConfigured, match=name):
        get_client()
