import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


def _read_settings(name: str, tmp_path: Path, **env: str):
    """A fresh process that prints one setting, its environment ``env`` only."""
    return subprocess.run(  # noqa: S603 - fixed argv
        [
            sys.executable,
            "-c",
            f"from django.conf import settings; print(settings.{name})",
        ],
        cwd=BASE_DIR,
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "hakiyetu.settings",
            "VAR_DIR": str(tmp_path),
            "CACHE_URL": "locmemcache://",
            "SECRET_KEY": "test-only-key",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def _setting(name: str, tmp_path: Path, **env: str) -> str:
    """A setting's value as a fresh process reads it from ``env`` only."""
    result = _read_settings(name, tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("interval", "claim"), [("", "30.0"), ("2", "2.0"), ("3600", "30.0")]
)
def test_query_claim_never_outlasts_one_sweep_interval(tmp_path, interval, claim):
    # given / when
    value = _setting(
        "MPESA_QUERY_CLAIM_SECONDS",
        tmp_path,
        MPESA_RECONCILE_INTERVAL_SECONDS=interval,
    )
    # then: a payment still processing is asked again at the next sweep
    assert value == claim


@pytest.mark.parametrize(
    ("name", "default"),
    [
        ("MPESA_STK_LIFETIME_SECONDS", "180"),
        ("MPESA_READ_TIMEOUT", "30.0"),
        ("MPESA_UNMATCHED_CALLBACK_WINDOW_SECONDS", "120"),
        ("DEBUG", "False"),
        ("PERSONAL_DATA_RETENTION_DAYS", "None"),
        ("FIELD_ENCRYPTION_KEYS", "[]"),
    ],
)
def test_an_empty_variable_copied_from_env_example_means_the_default(
    tmp_path, name, default
):
    # given: `NAME=` as .env.example lists it / when
    value = _setting(name, tmp_path, **{name: ""})
    # then
    assert value == default


def test_an_empty_secret_key_is_a_clear_error(tmp_path):
    # given / when
    result = _read_settings("DEBUG", tmp_path, SECRET_KEY="")
    # then
    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr


def test_production_allows_callbacks_only_from_safaricoms_addresses(tmp_path):
    # given / when
    value = _setting(
        "MPESA_CALLBACK_ALLOWED_IPS", tmp_path, MPESA_ENVIRONMENT="production"
    )
    # then: ../shared/daraja.md §5
    assert "196.201.214.200" in value
    assert "196.201.212.69" in value


@pytest.mark.parametrize(
    ("env", "present", "absent"),
    [
        ({"MPESA_CALLBACK_ALLOWED_IPS": "10.0.0.0/8"}, ["10.0.0.0/8"], ["196.201"]),
        (
            {"MPESA_CALLBACK_EXTRA_IPS": "203.0.113.7"},
            ["203.0.113.7", "196.201.214.200"],
            [],
        ),
    ],
)
def test_an_operator_replaces_or_widens_the_production_allowlist(
    tmp_path, env, present, absent
):
    # given / when
    value = _setting(
        "MPESA_CALLBACK_ALLOWED_IPS", tmp_path, MPESA_ENVIRONMENT="production", **env
    )
    # then
    assert all(item in value for item in present)
    assert not any(item in value for item in absent)


def test_the_sandbox_keeps_accepting_callbacks_from_anywhere(tmp_path):
    # given / when
    value = _setting("MPESA_CALLBACK_ALLOWED_IPS", tmp_path, MPESA_ENVIRONMENT="")
    # then
    assert value == "[]"
