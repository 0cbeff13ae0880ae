"""Scale-out (issue 16, point 8): two hosts on one PostgreSQL and Redis.

Two gunicorn web servers (``deploy/gunicorn.conf.py``, two workers each) on
two ports, two Celery workers and one beat, all on PostgreSQL with Redis as
cache and broker: the soak of ``test_soak.py`` (``SCALE_OUT_BOOKINGS``, 500
by default, with the same fault mix) spreads its clients over both web
servers, and each server receives the callbacks of the pushes it made.
Every soak invariant must hold. Runs only where ``DATABASE_URL`` is
PostgreSQL and ``CELERY_BROKER_URL`` is Redis (CI's second run).
"""

import dataclasses
import os
from collections.abc import Iterator

import pytest

from e2e.soak import SoakConfig
from e2e.soak_run import run_soak, soak_failures
from e2e.stack import Stack, start_stack

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.soak,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql"))
        or not os.environ.get("CELERY_BROKER_URL", "").startswith("redis"),
        reason="scale-out needs PostgreSQL and Redis (DATABASE_URL, CELERY_BROKER_URL)",
    ),
]

CONFIG = dataclasses.replace(
    SoakConfig.from_env(), bookings=int(os.environ.get("SCALE_OUT_BOOKINGS", "500"))
)
SCALE_OUT_REDIS_DB = os.environ.get("E2E_SCALE_OUT_REDIS_DB", "12")


@pytest.fixture(scope="module")
def two_hosts(tmp_path_factory) -> Iterator[Stack]:
    stack = start_stack(
        tmp_path_factory.mktemp("scale-out"),
        overrides=CONFIG.process_env(),
        redis_db=SCALE_OUT_REDIS_DB,
        hosts=2,
        gunicorn=True,
    )
    try:
        yield stack
    finally:
        stack.stop()


def test_two_web_hosts_two_workers_one_beat_lose_nothing(two_hosts):
    # when
    counts, problems = run_soak(two_hosts, CONFIG)

    # then: every invariant of the one-host soak holds ...
    assert soak_failures(counts, problems) == {}
    # ... and both hosts did the work: each took pushes and callbacks
    for host in (1, 2):
        log = (two_hosts.log_dir / f"web{host}.log").read_text(errors="replace")
        assert "/api/payment/mpesa/stk-push" in log, f"web{host} served no push"
        assert "/api/payment/callback/***" in log, f"web{host} got no callback"
    # ... and exactly one beat ran (the only one started; its lock taken)
    assert "beat lock taken" in two_hosts.log_tail("beat", 400)
