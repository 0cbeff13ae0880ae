"""``manage.py check --deploy``: the M-Pesa settings that lose or forge money."""

import pytest
from django.core.checks import ERROR, run_checks
from django.test import override_settings

pytestmark = pytest.mark.django_db

SECRET = "Zr8V0m3xq7Lk2Pp9Wb4Tn6Yc1Hd5Jf0Sg3Ae8Ru7Io2"
PRODUCTION = {
    "DEBUG": False,
    "MPESA_ENVIRONMENT": "production",
    "MPESA_BASE_URL": "",
    "MPESA_PASSKEY": "a-production-passkey-from-safaricom",
    "MPESA_CALLBACK_SECRET": SECRET,
    "MPESA_CALLBACK_URL": f"https://api.hakiyetu.co.ke/api/payment/callback/{SECRET}",
    "MPESA_CALLBACK_ALLOWED_IPS": ["196.201.214.200"],
    "MPESA_VERIFY_CALLBACKS": False,
    "MPESA_CALLBACK_TRUSTED_PROXIES": 0,
    "MPESA_CALLBACK_PROXY_IPS": [],
}


def _error_ids(**overrides) -> set[str]:
    with override_settings(**{**PRODUCTION, **overrides}):
        messages = run_checks(include_deployment_checks=True)
    return {m.id for m in messages if m.level >= ERROR}


def test_production_settings_pass_the_deploy_check():
    # given / when
    errors = _error_ids()
    # then
    assert errors == set()


def test_production_without_allowlist_or_verification_is_an_error():
    # given / when
    errors = _error_ids(MPESA_CALLBACK_ALLOWED_IPS=[], MPESA_VERIFY_CALLBACKS=False)
    # then
    assert "payments.E001" in errors


def test_an_allowlist_of_every_address_is_no_allowlist():
    # given / when
    errors = _error_ids(MPESA_CALLBACK_ALLOWED_IPS=["196.201.214.200", "0.0.0.0/0"])
    # then
    assert "payments.E001" in errors


def test_verifying_callbacks_stands_in_for_an_allowlist():
    # given / when
    errors = _error_ids(MPESA_CALLBACK_ALLOWED_IPS=[], MPESA_VERIFY_CALLBACKS=True)
    # then
    assert "payments.E001" not in errors


def test_a_short_callback_secret_is_an_error():
    # given
    short = "s3cr3t-path-token"
    # when
    errors = _error_ids(
        MPESA_CALLBACK_SECRET=short,
        MPESA_CALLBACK_URL=f"https://api.hakiyetu.co.ke/api/payment/callback/{short}",
    )
    # then
    assert errors == {"payments.E002"}


@pytest.mark.parametrize(
    "url",
    [
        "",
        "https://api.hakiyetu.co.ke/api/payment/mpesa/callback",
        f"https://api.hakiyetu.co.ke/api/payment/callback/{SECRET}x",
        f"https://api.hakiyetu.co.ke/safaricom/callback/{SECRET}",
        f"http://api.hakiyetu.co.ke/api/payment/callback/{SECRET}",
    ],
)
def test_an_unusable_callback_url_is_an_error(url):
    # given / when
    errors = _error_ids(MPESA_CALLBACK_URL=url)
    # then
    assert "payments.E003" in errors


def test_the_error_names_the_setting_but_never_shows_the_secret():
    # given
    with override_settings(**{**PRODUCTION, "MPESA_CALLBACK_URL": "https://x/a"}):
        messages = run_checks(include_deployment_checks=True)
    # when
    [error] = [m for m in messages if m.id == "payments.E003"]
    # then
    assert "MPESA_CALLBACK_URL" in error.msg
    assert SECRET not in error.msg + (error.hint or "")


def test_the_deploy_errors_are_silent_without_deploy():
    # given / when
    with override_settings(**{**PRODUCTION, "MPESA_CALLBACK_SECRET": "short"}):
        messages = run_checks()
    # then
    assert not [m for m in messages if m.level >= ERROR]


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("http://daraja-gateway.internal", {"payments.E004"}),
        ("http://127.0.0.1:8765", {"payments.E004", "payments.E006"}),
        ("https://api.safaricom.co.ke", set()),
    ],
)
def test_production_needs_an_https_daraja_host(base_url, expected):
    # given / when
    errors = _error_ids(MPESA_BASE_URL=base_url)
    # then
    assert errors == expected


def test_the_simulator_url_of_a_make_run_env_is_an_error_in_any_environment():
    # given / when
    errors = _error_ids(
        MPESA_ENVIRONMENT="sandbox", MPESA_BASE_URL="http://localhost:8765"
    )
    # then
    assert "payments.E006" in errors


def test_the_sandbox_passkey_is_an_error():
    # given
    from hakiyetu.localenv import SANDBOX_PASSKEY

    # when
    errors = _error_ids(MPESA_PASSKEY=SANDBOX_PASSKEY)
    # then
    assert errors == {"payments.E005"}


def test_trusted_proxies_without_their_addresses_is_an_error():
    # given / when
    missing = _error_ids(MPESA_CALLBACK_TRUSTED_PROXIES=1, MPESA_CALLBACK_PROXY_IPS=[])
    named = _error_ids(
        MPESA_CALLBACK_TRUSTED_PROXIES=1, MPESA_CALLBACK_PROXY_IPS=["10.0.0.0/8"]
    )
    # then
    assert missing == {"payments.E007"}
    assert named == set()
