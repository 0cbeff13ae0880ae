"""``?wait=`` across processes: a wake-up published by one process reaches
the waiters of another through Redis, and a real uvicorn serving
``hakiyetu.asgi`` answers when a callback stored here completes the
payment. Skipped without Redis (``WAKEUP_REDIS_URL``, or ``CACHE_URL`` /
``CELERY_BROKER_URL`` on Redis); the uvicorn test needs PostgreSQL too."""

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.conf import settings
from django.db import connection
from rest_framework.authtoken.models import Token

from core.wakeups import wait_until_blocking
from payments.tests.conftest import CALLBACK_SECRET
from payments.tests.factories import PaymentFactory
from payments.tests.status_wait_support import (  # noqa: F401 (a fixture)
    LateCallback,
    only_the_signal_wakes,
)

BASE_DIR = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.skipif(
        not settings.WAKEUP_REDIS_URL,
        reason="needs Redis: set CACHE_URL or WAKEUP_REDIS_URL to redis://...",
    ),
    pytest.mark.usefixtures("only_the_signal_wakes"),
]

PUBLISH = (
    "import django, sys, time; django.setup(); "
    "from core.wakeups import wakeup_send; time.sleep(float(sys.argv[2])); "
    "wakeup_send(sys.argv[1])"
)


def _environment(**overrides: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hakiyetu.settings",
        "WAKEUP_REDIS_URL": settings.WAKEUP_REDIS_URL,
        **overrides,
    }


def test_a_wakeup_sent_by_another_process_wakes_the_waiter():
    # given: a waiter whose condition holds from its second look on
    topic = f"test:{uuid.uuid4()}"
    looks = []

    def check() -> tuple[bool, int]:
        looks.append(time.monotonic())
        return len(looks) > 1, len(looks)

    publisher = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "-c", PUBLISH, topic, "1.5"],
        cwd=BASE_DIR,
        env=_environment(),
    )
    # when
    try:
        result = wait_until_blocking(topic, check, timeout=30)
    finally:
        publisher.wait(timeout=30)
    # then: looked again on the wake-up, not at the minute's re-check
    assert publisher.returncode == 0
    assert result == 2
    assert looks[1] - looks[0] < 25


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "postgres")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"])
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{credentials}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def uvicorn(tmp_path) -> Iterator[str]:
    """uvicorn serving ``hakiyetu.asgi`` over the test database."""
    port = _free_port()
    env = _environment(
        DATABASE_URL=_database_url(),
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        CONN_MAX_AGE="0",
        VAR_DIR=str(tmp_path),
        FIELD_ENCRYPTION_KEYS=",".join(settings.FIELD_ENCRYPTION_KEYS),
        FIELD_HASH_KEY=settings.FIELD_HASH_KEY,
        MPESA_CALLBACK_SECRET=CALLBACK_SECRET,
    )
    server = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "uvicorn", "hakiyetu.asgi:application"]
        + ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
        cwd=BASE_DIR,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{url}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("uvicorn did not start")
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_uvicorn_answers_a_wait_when_a_callback_here_completes_it(uvicorn):
    # given: a client waiting 25 s in the uvicorn process
    payment = PaymentFactory()
    token = Token.objects.create(user=payment.booking.client)
    answers = []

    def wait() -> None:
        answers.append(
            requests.get(
                f"{uvicorn}/api/payment/mpesa/status/{payment.checkout_request_id}",
                params={"wait": "25"},
                headers={"Authorization": f"Token {token.key}"},
                timeout=40,
            )
        )

    waiter = threading.Thread(target=wait)
    started = time.monotonic()
    waiter.start()
    # when: the callback is stored by this process, 1 s later
    callback = LateCallback(payment.checkout_request_id, delay=1.0)
    callback.start()
    callback.join()
    waiter.join()
    # then: answered with the completed payment, before the wait ran out
    assert callback.status_code == 200
    [answer] = answers
    assert answer.status_code == 200
    assert answer.json()["status"] == "completed"
    assert time.monotonic() - started < 20
