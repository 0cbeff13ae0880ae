"""The environment of the e2e stack's processes: settings, database, broker.

``child_env`` gives every process of a ``Stack`` the same settings: the
simulator as Daraja, fresh secrets, short intervals for the sweeps, and a
private database (a SQLite file under the stack's ``VAR_DIR``, or a fresh
PostgreSQL database beside the configured one) and a private cache and
broker (files, or a dedicated Redis database number), dropped or emptied
when the stack stops.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from hakiyetu.localenv import (
    SIMULATOR_CERTIFICATE,
    SIMULATOR_INITIATOR_NAME,
    SIMULATOR_INITIATOR_PASSWORD,
)
from payments.callback_url import url_secret

if TYPE_CHECKING:
    from e2e.stack import Stack

BASE_DIR = Path(__file__).resolve().parent.parent
SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"


def child_env(stack: Stack, *, redis_db: str) -> dict[str, str]:
    """The settings every process of ``stack`` runs with (``redis_db``: its
    Redis database number when the environment gives ``redis://`` URLs)."""
    # Never a word Daraja filters: the simulator would refuse every push.
    secret, result_secret = url_secret(), url_secret()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MPESA_", "CELERY_", "PYTEST_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="hakiyetu.settings",
        PYTHONUNBUFFERED="1",
        VAR_DIR=str(stack.var_dir),
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="1",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="INFO",
        MPESA_ENVIRONMENT="sandbox",
        MPESA_BASE_URL=stack.simulator_url,
        MPESA_CONSUMER_KEY=f"e2e-{secrets.token_hex(6)}",
        MPESA_CONSUMER_SECRET=secrets.token_hex(16),
        MPESA_BUSINESS_SHORT_CODE="174379",
        MPESA_PASSKEY=SANDBOX_PASSKEY,
        MPESA_CALLBACK_SECRET=secret,
        MPESA_CALLBACK_URL=f"{stack.web_url}/api/payment/callback/{secret}",
        # Money out (docs/refunds.md): the simulator's initiator and its
        # shipped test certificate, as hakiyetu.localenv writes them.
        MPESA_INITIATOR_NAME=SIMULATOR_INITIATOR_NAME,
        MPESA_INITIATOR_PASSWORD=SIMULATOR_INITIATOR_PASSWORD,
        MPESA_CERTIFICATE_PATH=str(BASE_DIR / SIMULATOR_CERTIFICATE),
        MPESA_RESULT_SECRET=result_secret,
        MPESA_RESULT_URL=f"{stack.web_url}/api/payment/result/{result_secret}",
        MPESA_QUEUE_TIMEOUT_URL=f"{stack.web_url}/api/payment/timeout/{result_secret}",
        # A refund with no result for 5 s is asked about with Transaction
        # Status (by the refunds sweep, on MPESA_RECONCILE_INTERVAL_SECONDS);
        # beat requests the refunds cancelled bookings owe every 2 s.
        MPESA_RESULT_WAIT_SECONDS="5",
        REFUND_AUTOMATIC_INTERVAL_SECONDS="2",
        # A lost callback is settled by beat's periodic sweep (every 2 s
        # here, 60 s in production), which takes payments open for 3 s or
        # more; the one-off follow-up query is pushed beyond the tests.
        MPESA_QUERY_AFTER_SECONDS="3",
        MPESA_FOLLOW_UP_QUERY_SECONDS="600",
        MPESA_RECONCILE_INTERVAL_SECONDS="2",
        MPESA_STK_LIFETIME_SECONDS="60",
        MPESA_RETRY_AFTER_FAILURE_SECONDS="3",
        STK_PUSH_RATE_PER_USER="100/min",
        STK_PUSH_RATE_PER_PHONE="100/min",
        AUTH_TOKEN_RATE="100/min",  # noqa: S106 - a rate, not a secret
        # The soak books hundreds of slots per client, several at once; the
        # limits themselves are tested in bookings/tests.
        BOOKING_RATE_PER_USER="100000/hour",
        BOOKING_MAX_UNPAID_HOLDS="100000",
        DATABASE_URL=_database_url(stack),
        # runserver serves each request on a new thread, so a persistent
        # connection outlives its thread: under load PostgreSQL runs out of
        # connections ("too many clients") and callbacks get a 500.
        CONN_MAX_AGE="0",
        CACHE_URL=_private_redis(stack, os.environ.get("CACHE_URL", ""), redis_db)
        or f"filecache://{stack.var_dir / 'cache'}",
        CELERY_BROKER_URL=_private_redis(
            stack, os.environ.get("CELERY_BROKER_URL", ""), redis_db
        )
        or "filesystem://",
    )
    return env


def _private_redis(stack: Stack, url: str, db: str) -> str | None:
    """The same Redis server on the e2e database number, or None.

    The database is emptied before and after the run: a task a previous
    run left queued would otherwise meet another run's database rows.
    """
    if not url.startswith(("redis://", "rediss://")):
        return None  # file cache / file broker under the private VAR_DIR
    import redis

    private = urlunsplit(urlsplit(url)._replace(path=f"/{db}"))
    redis.Redis.from_url(private).flushdb()
    stack.cleanups.append(lambda: redis.Redis.from_url(private).flushdb())
    return private


def _database_url(stack: Stack) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://", "pgsql://")):
        return _private_postgres(stack, url)
    return f"sqlite:///{stack.var_dir / 'e2e.sqlite3'}"


def _private_postgres(stack: Stack, url: str) -> str:
    """Create a fresh database beside the configured one; drop it at the end."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = f"hakiyetu_e2e_{secrets.token_hex(4)}"
    admin_url = urlunsplit(parts._replace(scheme="postgresql"))

    def run(statement: sql.Composable) -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(statement)

    run(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    stack.cleanups.append(
        lambda: run(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )
    )
    return urlunsplit(parts._replace(path=f"/{name}"))
