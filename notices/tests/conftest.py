"""Notices' fixtures: locmem mail (pytest-django's), the file SMS backend,
and the payments tests' fake Daraja and callback settings."""

from pathlib import Path

import pytest

from payments.tests.conftest import (  # noqa: F401  (fixtures used here)
    _callback_settings,
    fake_daraja,
)


@pytest.fixture(autouse=True)
def sms_outbox(settings, tmp_path) -> Path:
    """Every SMS is written to a file in this folder."""
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_DIR = str(tmp_path / "sms")
    settings.MPESA_C2B_SHORT_CODE = "600984"
    return tmp_path / "sms"


def sms_sent(outbox: Path) -> list[str]:
    """The texts of the SMS written so far."""
    if not outbox.exists():
        return []
    return sorted(path.read_text() for path in outbox.iterdir())
