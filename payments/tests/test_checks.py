"""``manage.py check --deploy``: the M-Pesa settings that lose or forge money."""

import pytest
from django.core.checks import ERROR, WARNING, run_checks
from django.test import override_settings

pytestmark = pytest.mark.django_db

SECRET = "Zr8V0m3xq7Lk2Pp9Wb4Tn6Yc1Hd5Jf0Sg3Ae8Ru7Io2"
PRODUCTION = {
    "DEBUG": False,
    "MPESA_ENVIRONMENT": "production",
    "MPESA_BASE_URL": "",
    "MPESA_PASSKEY": "a-production-passkey-from-safaricom",
    "MPESA_CALLBACK_SECRET": SECRET,
    # Refunds configured, with a result secret of their own (E010).
    "MPESA_INITIATOR_NAME": "haki-api-op",
    "MPESA_RESULT_SECRET": "Rz7Kq2Vw9Lm4Xc8Bn3Jd6Hf1Tg5Ys0Pa",
    "MPESA_CALLBACK_URL": f"https://api.hakiyetu.co.ke/api/payment/callback/{SECRET}",
    "MPESA_CALLBACK_ALLOWED_IPS": ["196.201.214.200"],
    "MPESA_VERIFY_CALLBACKS": False,
    "MPESA_CALLBACK_TRUSTED_PROXIES": 0,
    "MPESA_CALLBACK_PROXY_IPS": [],
    "MPESA_C2B_SECRET": SECRET,
    "MPESA_C2B_CONFIRMATION_URL": "",
    "MPESA_C2B_VALIDATION_URL": "",
}
C2B_SECRET = "Qm4Xz8Lp1Vr6Tb3Nc7Hd2Jf9Kg5Ws0Ye4Ua8Io1Rt6"
C2B_URLS = {
    "MPESA_C2B_SECRET": C2B_SECRET,
    "MPESA_C2B_CONFIRMATION_URL": (
        f"https://api.hakiyetu.co.ke/api/payment/c2b/confirmation/{C2B_SECRET}"
    ),
    "MPESA_C2B_VALIDATION_URL": (
        f"https://api.hakiyetu.co.ke/api/payment/c2b/validation/{C2B_SECRET}"
    ),
}


def _deploy_messages(**overrides) -> list:
    with override_settings(**{**PRODUCTION, **overrides}):
        return run_checks(include_deployment_checks=True)


def _error_ids(**overrides) -> set[str]:
    return {m.id for m in _deploy_messages(**overrides) if m.level >= ERROR}


def _warning_ids(**overrides) -> set[str]:
    return {m.id for m in _deploy_messages(**overrides) if WARNING <= m.level < ERROR}


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


def test_production_settings_with_c2b_urls_pass_the_deploy_check():
    # given / when
    errors = _error_ids(**C2B_URLS)
    # then
    assert errors == set()


def test_a_short_c2b_secret_of_its_own_is_an_error():
    # given
    short = "c2b-path-token"
    urls = {
        key: value.replace(C2B_SECRET, short)
        for key, value in C2B_URLS.items()
        if key != "MPESA_C2B_SECRET"
    }
    # when
    errors = _error_ids(MPESA_C2B_SECRET=short, **urls)
    # then
    assert errors == {"payments.E008"}


def test_a_c2b_secret_equal_to_the_callback_secret_is_judged_as_that_one():
    # given / when: the default, MPESA_C2B_SECRET unset, is the callback secret
    errors = _error_ids(MPESA_C2B_SECRET=SECRET)
    # then
    assert "payments.E008" not in errors


@pytest.mark.parametrize(
    ("setting", "url"),
    [
        ("MPESA_C2B_CONFIRMATION_URL", "https://api.hakiyetu.co.ke/c2b/confirm"),
        ("MPESA_C2B_VALIDATION_URL", ""),
        (
            "MPESA_C2B_CONFIRMATION_URL",
            f"http://api.hakiyetu.co.ke/api/payment/c2b/confirmation/{C2B_SECRET}",
        ),
        (
            "MPESA_C2B_VALIDATION_URL",
            f"https://api.hakiyetu.co.ke/mpesa/c2b/validation/{C2B_SECRET}",
        ),
    ],
)
def test_an_unusable_c2b_url_is_an_error(setting, url):
    # given / when
    errors = _error_ids(**{**C2B_URLS, setting: url})
    # then
    assert errors == {"payments.E009"}


def test_the_c2b_url_error_names_the_setting_but_never_shows_the_secret():
    # given
    messages = _deploy_messages(
        **{**C2B_URLS, "MPESA_C2B_VALIDATION_URL": "https://x/a"}
    )
    # when
    [error] = [m for m in messages if m.id == "payments.E009"]
    # then
    assert "MPESA_C2B_VALIDATION_URL" in error.msg
    assert C2B_SECRET not in error.msg + (error.hint or "")


def test_no_c2b_url_is_no_c2b_url_error():
    # given / when
    errors = _error_ids(MPESA_C2B_CONFIRMATION_URL="", MPESA_C2B_VALIDATION_URL="")
    # then
    assert "payments.E009" not in errors


def test_verified_callbacks_with_an_open_allowlist_warn_about_c2b():
    # given / when
    warnings = _warning_ids(MPESA_VERIFY_CALLBACKS=True, MPESA_CALLBACK_ALLOWED_IPS=[])
    # then
    assert "payments.W003" in warnings


@pytest.mark.parametrize(
    "overrides",
    [
        {
            "MPESA_VERIFY_CALLBACKS": True,
            "MPESA_CALLBACK_ALLOWED_IPS": ["196.201.214.200"],
        },
        {"MPESA_VERIFY_CALLBACKS": True, "MPESA_ENVIRONMENT": "sandbox"},
        {"MPESA_CALLBACK_ALLOWED_IPS": []},  # E001 says it already
    ],
)
def test_no_c2b_warning_when_the_allowlist_or_the_environment_guards(overrides):
    # given / when
    warnings = _warning_ids(**{"MPESA_CALLBACK_ALLOWED_IPS": [], **overrides})
    # then
    assert "payments.W003" not in warnings


@pytest.mark.parametrize(
    ("result_secret", "refused"),
    [
        ("", True),
        (SECRET, True),  # the callback secret travels in every STK push
        ("short-result-secret", True),
        ("r" * 40, False),
    ],
)
def test_refunds_need_a_result_secret_of_their_own(result_secret, refused):
    # given refunds configured / when
    errors = _error_ids(
        MPESA_INITIATOR_NAME="haki-api-op", MPESA_RESULT_SECRET=result_secret
    )
    # then
    assert ("payments.E010" in errors) is refused


def test_without_refunds_the_result_secret_is_not_judged():
    assert "payments.E010" not in _error_ids(MPESA_INITIATOR_NAME="")
