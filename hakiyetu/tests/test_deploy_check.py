import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    # given: production-like settings only from the environment
    env = {
        "PATH": os.environ["PATH"],
        "SECRET_KEY": "x" * 20 + "production-like-secret-key-0123456789-abcdef",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "api.hakiyetu.co.ke",
        "MPESA_ENVIRONMENT": "production",
        "MPESA_CALLBACK_SECRET": "s3cr3t-path-token",
        "MPESA_CALLBACK_URL": "https://api.hakiyetu.co.ke/api/payment/callback/s3cr3t-path-token",
        "VAR_DIR": str(tmp_path),
        "CACHE_URL": "locmemcache://",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    # when
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


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
