"""Project-wide pytest fixtures and marker handling."""

import os

import pytest
from django.conf import settings


def _database_vendor() -> str:
    engine = settings.DATABASES["default"]["ENGINE"]
    return "postgresql" if "postgresql" in engine else "sqlite"


def pytest_configure(config):
    """Tests always have field keys, even with a ``.env`` older than them
    (``make test`` adds them; a bare ``pytest`` may not have)."""
    from cryptography.fernet import Fernet

    if not settings.FIELD_ENCRYPTION_KEYS:
        settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    if not settings.FIELD_HASH_KEY:
        settings.FIELD_HASH_KEY = "test-only-field-hash-key"  # noqa: S105


def pytest_collection_modifyitems(config, items):
    on_sqlite = _database_vendor() != "postgresql"
    skip_pg = pytest.mark.skip(
        reason="needs PostgreSQL (row locks, exclusion constraints); "
        "run with DATABASE_URL=postgres://..."
    )
    skip_sandbox = pytest.mark.skip(reason="live Daraja sandbox; set DARAJA_SANDBOX=1")
    for item in items:
        if on_sqlite and "postgres" in item.keywords:
            item.add_marker(skip_pg)
        if (
            "daraja_sandbox" in item.keywords
            and os.environ.get("DARAJA_SANDBOX") != "1"
        ):
            item.add_marker(skip_sandbox)


@pytest.fixture(autouse=True)
def _isolated_cache():
    """Each test starts with an empty cache (tokens, throttles, locks)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks run in-process unless a test starts a real worker."""
    from hakiyetu.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After the session, end connections that threads of live-server and
    worker tests left open, so PostgreSQL can drop the test database."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
