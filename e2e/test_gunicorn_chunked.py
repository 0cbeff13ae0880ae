"""A chunked callback through a real gunicorn is read whole (issue 11, 20).

gunicorn de-chunks the body but sets no CONTENT_LENGTH; Django's request
stream then reads nothing and the callback used to be stored as empty.
Its own gunicorn on a free port, with DEBUG off, over a private SQLite file.
"""

import http.client
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from core.crypto import decrypt_text, is_encrypted
from payments.tests.payloads import as_bytes, success_callback

from e2e.stack import BASE_DIR

pytestmark = pytest.mark.e2e
SECRET = "chunked-e2e-callback-secret-0123456789abcdef"  # noqa: S105 - test


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited early")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError("gunicorn did not start")


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    database = tmp_path / "db.sqlite3"
    env = {
        "PATH": os.environ["PATH"],
        "SECRET_KEY": "gunicorn-chunked-test-key-0123456789-abcdefghijklmnop",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{database}",
        "CACHE_URL": "locmemcache://",
        "MPESA_ENVIRONMENT": "sandbox",
        "MPESA_CALLBACK_ALLOWED_IPS": "",
        "MPESA_CALLBACK_SECRET": SECRET,
        "MPESA_CALLBACK_URL": f"http://127.0.0.1/api/payment/callback/{SECRET}",
    }
    subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        timeout=300,
    )
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - fixed argv
        [
            *(sys.executable, "-m", "gunicorn", "hakiyetu.wsgi"),
            *("--bind", f"127.0.0.1:{port}", "--workers", "1"),
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(port, process)
        yield port, database
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_chunked_callback_reaches_the_database_whole(gunicorn):
    # given
    port, database = gunicorn
    body = as_bytes(success_callback("ws_CO_011220261234567708374149"))
    chunks = [body[:40], body[40:100], body[100:]]
    # when: sent in three chunks, with no Content-Length
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(
        "POST",
        f"/api/payment/callback/{SECRET}",
        body=iter(chunks),
        headers={"Content-Type": "application/json"},
        encode_chunked=True,
    )
    response = connection.getresponse()
    answer = response.read()
    connection.close()
    # then: acknowledged, and stored byte for byte
    assert response.status == 200, answer
    assert json.loads(answer) == {"ResultCode": 0, "ResultDesc": "Accepted"}
    with sqlite3.connect(database) as db:
        [(raw,)] = db.execute(
            "SELECT raw_body FROM payments_paymentevent WHERE kind = 'callback'"
        ).fetchall()
    # encrypted at rest, and byte for byte what was sent once decrypted
    assert is_encrypted(raw)
    assert decrypt_text(raw) == body.decode()
