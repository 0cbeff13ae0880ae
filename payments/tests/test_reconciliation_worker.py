"""The Celery tasks run for real: sent through a broker, executed by a
worker thread, results stored by django-celery-results.

The broker is the configured one when it is Redis (CI) and Celery's
in-memory transport otherwise. ``transaction=True``: the worker thread
has its own database connection and must see committed rows.
"""

import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings
from django.db import OperationalError, connections
from django_celery_results.models import TaskResult

from bookings.models import Booking
from hakiyetu.celery import app
from payments.models import Payment
from payments.tasks import payment_query_task, payment_reconcile_pending_task
from payments.tests.factories import PaymentFactory
from payments.tests.fakes import query_answer

pytestmark = pytest.mark.django_db(transaction=True)
Status = Payment.Status
T = TypeVar("T")


def _despite_sqlite_table_locks(read: Callable[[], T], timeout: float = 20) -> T:
    """Run ``read``, again while SQLite's shared in-memory test database
    says "database table is locked" (the worker thread writing its result
    at that instant); PostgreSQL never does."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return read()
        except OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _broker_url() -> str:
    configured = settings.CELERY_BROKER_URL
    return configured if configured.startswith("redis://") else "memory://"


def _forget_broker_connections() -> None:
    """Drop pools bound to the broker used so far: even eager ``.delay()``
    acquires a producer, which would keep publishing to the old broker."""
    app._pool = None
    app.amqp._producer_pool = None


def _close_worker_connections(**kwargs) -> None:
    """Runs in the worker thread after each task (and its stored result):
    its connections would otherwise outlive the test database."""
    connections.close_all()


@pytest.fixture
def worker(settings) -> Iterator[object]:
    settings.MPESA_QUERY_AFTER_SECONDS = 0
    previous = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url = _broker_url()
    app.conf.task_always_eager = False
    _forget_broker_connections()
    task_postrun.connect(_close_worker_connections)
    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=10
    ) as running:
        yield running
    task_postrun.disconnect(_close_worker_connections)
    app.conf.broker_url, app.conf.task_always_eager = previous
    _forget_broker_connections()


def test_payment_query_task_settles_payment_on_a_worker(worker, fake_daraja):
    # given
    payment = PaymentFactory()
    fake_daraja.query_result = query_answer("0", "processed successfully")

    # when
    sent = payment_query_task.delay(payment.pk)
    answer = _despite_sqlite_table_locks(lambda: sent.get(timeout=20))

    # then
    payment.refresh_from_db()
    assert answer == "completed"
    assert payment.status == Status.COMPLETED
    assert payment.booking.status == Booking.Status.CONFIRMED


def test_payment_query_task_leaves_settled_payment_alone(worker, fake_daraja):
    # given
    payment = PaymentFactory(completed=True)

    # when
    sent = payment_query_task.delay(payment.pk)
    answer = _despite_sqlite_table_locks(lambda: sent.get(timeout=20))

    # then
    assert answer == "settled"
    assert fake_daraja.queries == []


def test_reconcile_task_runs_the_sweep_and_stores_its_result(worker, fake_daraja):
    # given
    payment = PaymentFactory()
    fake_daraja.query_result = query_answer("1032", "Request cancelled by user")

    # when
    result = payment_reconcile_pending_task.delay()
    summary = _despite_sqlite_table_locks(lambda: result.get(timeout=20))

    # then
    payment.refresh_from_db()
    assert payment.status == Status.FAILED
    assert summary["examined"] == 1
    assert summary["failed"] == 1
    stored = _despite_sqlite_table_locks(
        lambda: TaskResult.objects.get(task_id=result.id)
    )
    assert stored.status == "SUCCESS"
    assert stored.task_name == "payments.tasks.payment_reconcile_pending_task"
