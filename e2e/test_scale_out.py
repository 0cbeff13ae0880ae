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
import json
import os
import secrets
from collections import Counter
from collections.abc import Iterator

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

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
METRICS_TOKEN = secrets.token_urlsafe(32)
FINAL = ("completed", "failed", "expired", "needs_review")


@pytest.fixture(scope="module")
def two_hosts(tmp_path_factory) -> Iterator[Stack]:
    stack = start_stack(
        tmp_path_factory.mktemp("scale-out"),
        overrides=CONFIG.process_env() | {"METRICS_TOKEN": METRICS_TOKEN},
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
    # ... and /metrics of the two web servers (each host's web, worker and,
    # on host 1, beat and query_pending) add up to what the database says
    scraped = sum((_payments_total(url) for url in two_hosts.web_urls), Counter())
    stored = _status_changes(two_hosts)
    assert {s: scraped[s] for s in FINAL} == {s: stored.get(s, 0) for s in FINAL}
    assert scraped["completed"] > 0
    # ... and exactly one beat ran (the only one started; its lock taken)
    assert "beat lock taken" in two_hosts.log_tail("beat", 400)


def _payments_total(web_url: str) -> Counter:
    """``hakiyetu_payments_total`` by status, as one web server exposes it."""
    answer = requests.get(
        f"{web_url}/metrics",
        headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
        timeout=30,
    )
    answer.raise_for_status()
    totals: Counter = Counter()
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if sample.name == "hakiyetu_payments_total":
                totals[sample.labels["status"]] += int(sample.value)
    return totals


def _status_changes(stack: Stack) -> dict[str, int]:
    """Status changes the database recorded, by the status reached."""
    path = stack.var_dir / "status-changes.json"
    code = (
        "import json; from django.db.models import Count; "
        "from payments.models import PaymentEvent as E; "
        "rows = E.objects.filter(kind=E.Kind.STATUS_CHANGE, payment__isnull=False)"
        ".values('to_status').annotate(n=Count('id')); "
        f"open({str(path)!r}, 'w').write(json.dumps("
        "{r['to_status']: r['n'] for r in rows}))"
    )
    stack.manage("shell", "-c", code, log="status-changes")
    return json.loads(path.read_text())
