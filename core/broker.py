"""The Redis broker transport, publishing through one client per channel;
``publish_options`` for cheaper publishes of small tasks.

kombu's Redis channel builds a new ``redis.Redis`` client for every message
it publishes (``Channel.conn_or_acquire``); building one costs about a
millisecond of CPU, a tenth of a callback's. Celery's producer pool already
keeps the connection and its channel; this keeps the client too. A client
over a connection pool is thread-safe, and a channel whose pool was
replaced (after a reconnect) gets a new client.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from django.conf import settings
from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    """A Redis channel that reuses its publishing client."""

    _reused_client = None

    @contextmanager
    def conn_or_acquire(self, client=None) -> Iterator:
        if client:
            yield client
            return
        reused = self._reused_client
        if reused is None or reused.connection_pool is not self.pool:
            reused = self._reused_client = self._create_client()
        yield reused


class Transport(kombu_redis.Transport):
    """``CELERY_BROKER_TRANSPORT`` for a ``redis://`` broker URL."""

    Channel = Channel


# Brokers on kombu's virtual transports: a message for Celery's default
# (direct) exchange goes straight to its queue's key or file, whether or
# not the queue was declared. RabbitMQ would drop it without a queue.
_VIRTUAL_SCHEMES = ("redis://", "rediss://", "filesystem://", "memory://")


def publish_options(arguments: tuple) -> dict:
    """``apply_async`` options for small arguments (ids) that spare each
    publish work it does not need: the queue's declaration on a virtual
    transport (Redis, files; kombu copies and binds three entities to
    learn it was declared already) and ``saferepr`` of the arguments for
    the message's headers (``repr`` of ids is the same text). A third of
    a publish's CPU (bench/README.md, issue 18)."""
    options = {"argsrepr": repr(arguments), "kwargsrepr": "{}"}
    if _virtual_broker():
        options["declare"] = []
    return options


@cache
def _virtual_broker() -> bool:
    return settings.CELERY_BROKER_URL.startswith(_VIRTUAL_SCHEMES)
