import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
SECRET = "Zr8V0m3xq7Lk2Pp9Wb4Tn6Yc1Hd5Jf0Sg3Ae8Ru7Io2"
FIELD_KEY = "Hh0t3Yk8C1mXwq2y9n9dUj0k8s0VbW4Qm3cF1rZs5aE="


def _production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """Production-like settings only from the environment (the local .env
    fills in only what is missing, so the simulator's values are blanked)."""
    return {
        "PATH": os.environ["PATH"],
        "SECRET_KEY": "x" * 20 + "production-like-secret-key-0123456789-abcdef",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "api.hakiyetu.co.ke",
        "MPESA_ENVIRONMENT": "production",
        "MPESA_BASE_URL": "",
        "MPESA_PASSKEY": "a-production-passkey-from-safaricom",
        "MPESA_CALLBACK_SECRET": SECRET,
        "MPESA_CALLBACK_URL": f"https://api.hakiyetu.co.ke/api/payment/callback/{SECRET}",
        "EMAIL_URL": "smtp+tls://notices:mail-password@smtp.example.com:587",
        "SMS_BACKEND": "africastalking",
        "AFRICASTALKING_USERNAME": "hakiyetu",
        "AFRICASTALKING_API_KEY": "an-africastalking-api-key",
        "VAR_DIR": str(tmp_path),
        "CACHE_URL": "locmemcache://",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "METRICS_TOKEN": "m" * 40,
        "ALERT_EMAILS": "ops@hakiyetu.co.ke",
        "FIELD_ENCRYPTION_KEYS": FIELD_KEY,
        "FIELD_HASH_KEY": "a-production-hmac-key-for-the-phone-index",
        **overrides,
    }


def _check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    # given / when: an empty, unmigrated database
    result = _check_deploy(_production_env(tmp_path))
    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_when_notices_reach_only_a_console(tmp_path):
    # given production settings with the local defaults for e-mail and SMS
    env = _production_env(tmp_path, EMAIL_URL="consolemail://", SMS_BACKEND="")
    # when
    result = _check_deploy(env)
    # then
    assert result.returncode != 0
    assert "notices.W001" in result.stderr
    assert "notices.W002" in result.stderr


def test_check_deploy_fails_on_the_seed_guides_callback_url(tmp_path):
    # given
    env = _production_env(
        tmp_path,
        MPESA_CALLBACK_URL="https://api.hakiyetu.co.ke/api/payment/mpesa/callback",
    )
    # when
    result = _check_deploy(env)
    # then
    assert result.returncode != 0
    assert "payments.E003" in result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_check_warns_about_a_callback_url_daraja_refuses(tmp_path):
    # given
    env = {
        "PATH": os.environ["PATH"],
        "SECRET_KEY": "dev-key",
        "MPESA_CALLBACK_SECRET": "tok",
        "MPESA_CALLBACK_URL": "http://example.com/mpesa/callback/tok",
        "MPESA_ENVIRONMENT": "production",
        "VAR_DIR": str(tmp_path),
        "CACHE_URL": "locmemcache://",
    }
    # when
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # then
    output = result.stdout + result.stderr
    assert "contains 'mpesa'" in output
    assert "is not https" in output


def test_check_deploy_fails_on_a_make_run_env(tmp_path):
    # given: only what `make run`'s .env says (DEBUG, simulator, sandbox passkey)
    from hakiyetu.localenv import local_env_lines

    env = {"PATH": os.environ["PATH"], "VAR_DIR": str(tmp_path)}
    env["CACHE_URL"] = "locmemcache://"
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    for line in local_env_lines()[1:]:
        name, _, value = line.partition("=")
        env[name] = value
    # when
    result = _check_deploy(env)
    # then
    assert result.returncode != 0
    for error_id in ("hakiyetu.E001", "payments.E005", "payments.E006"):
        assert error_id in result.stderr


def test_check_deploy_fails_without_the_field_keys(tmp_path):
    # given: neither in the environment nor (blanked) in .env
    env = _production_env(tmp_path, FIELD_ENCRYPTION_KEYS="", FIELD_HASH_KEY="")
    # when
    result = _check_deploy(env)
    # then
    assert result.returncode != 0
    assert "hakiyetu.E003" in result.stderr
    assert "FIELD_ENCRYPTION_KEYS and FIELD_HASH_KEY unset" in result.stderr


def test_check_deploy_fails_on_a_key_that_is_not_a_fernet_key(tmp_path):
    # given: the second key is mistyped
    env = _production_env(tmp_path, FIELD_ENCRYPTION_KEYS=f"{FIELD_KEY},too-short")
    # when
    result = _check_deploy(env)
    # then
    assert result.returncode != 0
    assert "hakiyetu.E004" in result.stderr
    assert "entries 2 are not Fernet keys" in result.stderr
