"""The ASGI service closes each database connection at the end of its
look, whatever ``CONN_MAX_AGE`` the environment gives (a kept connection
would stay with the thread that opened it)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOW_CONN_MAX_AGE = (
    "import hakiyetu.asgi; from django.conf import settings; "
    "print(settings.DATABASES['default']['CONN_MAX_AGE'])"
)


def _conn_max_age_in_a_fresh_process(module: str) -> str:
    env = {
        **os.environ,
        # PostgreSQL: the settings keep connections only there (never
        # connected to: the settings are only read).
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/never",
        "CONN_MAX_AGE": "60",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    code = SHOW_CONN_MAX_AGE.replace("hakiyetu.asgi", module)
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def test_the_asgi_process_keeps_no_connection_whatever_the_environment():
    assert _conn_max_age_in_a_fresh_process("hakiyetu.asgi") == "0"


def test_other_processes_keep_the_environments_setting():
    # the WSGI web server and the workers keep their connections
    assert _conn_max_age_in_a_fresh_process("hakiyetu.wsgi") == "60"
