"""Multiprocess mode: counters of several processes (each writing its own
files to PROMETHEUS_MULTIPROC_DIR) add up in one /metrics, and the
database gauges appear once, not once per process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from observability.exposition import metrics_text
from observability.tests.conftest import sample

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
COUNT = (
    "from core.metrics import count_payment_status\n"
    "for _ in range({n}):\n"
    "    count_payment_status(status='completed', settle_seconds=12.0)\n"
)


def _process_counts(folder: Path, n: int) -> None:
    """A separate Python process that counts ``n`` completed payments."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    subprocess.run(  # noqa: S603
        [sys.executable, "-c", COUNT.format(n=n)],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
    )


def test_counters_of_two_processes_add_up(tmp_path, monkeypatch):
    # given two processes that counted 2 and 3 completed payments
    _process_counts(tmp_path, 2)
    _process_counts(tmp_path, 3)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    # when
    body = metrics_text().decode()
    # then
    assert len(list(tmp_path.glob("counter_*.db"))) == 2
    assert sample(body, "hakiyetu_payments_total", status="completed") == 5
    assert sample(body, "hakiyetu_payment_settle_seconds_count") == 5


def test_database_gauges_appear_once_in_multiprocess_mode(tmp_path, monkeypatch):
    # given
    _process_counts(tmp_path, 1)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    # when
    body = metrics_text().decode()
    # then
    assert body.count("\nhakiyetu_receipts_unallocated ") == 1
    assert body.count("# TYPE hakiyetu_payments_open gauge") == 1
