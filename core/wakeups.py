"""Wake-ups: "something about TOPIC changed, look again", across processes.

A topic is any short string (``payment-status:<CheckoutRequestID>``). The
sender calls ``wakeup_send(topic)`` after its transaction commits; a waiter
re-checks its own condition (``wait_until`` / ``wait_until_blocking``)
whenever a wake-up for its topic arrives, and every ``recheck_seconds()``
anyway. A wake-up carries nothing to trust: the waiter reads the database
again. One may be lost (Redis down, a process restarting); the re-check
bounds the delay then.

Transport: with ``WAKEUP_REDIS_URL`` one Redis pub/sub channel, read by one
listener thread per process that wakes that process's waiters; without it
(the embedded defaults) wake-ups reach the waiters of the sending process
only, and other processes' changes are seen by the re-checks.
"""

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TypeVar
from urllib.parse import urlsplit

from django.conf import settings

logger = logging.getLogger(__name__)

# Pub/sub channels ignore Redis's database numbers: the URL's number is in
# the channel's name, so deployments sharing a server keep theirs apart.
CHANNEL_PREFIX = "hakiyetu:wakeups:"
# With Redis a re-check is only a safety net for a lost message.
RECHECK_WITH_REDIS_SECONDS = 5.0
RECHECK_EMBEDDED_SECONDS = 1.0
RECONNECT_SECONDS = 1.0
# After a failed publish, skip publishing for this long: a Redis outage
# must not add a connect time-out to every callback.
PUBLISH_PAUSE_SECONDS = 5.0

T = TypeVar("T")


class _Waiter:
    """One waiting request: a threading or an asyncio event."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop
        self.event = asyncio.Event() if loop else threading.Event()

    def wake(self) -> None:
        if self.loop is None:
            self.event.set()
        elif not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.event.set)


_waiters: dict[str, set[_Waiter]] = {}
_waiters_lock = threading.Lock()


def _wake_local(topic: str) -> None:
    with _waiters_lock:
        waiters = list(_waiters.get(topic, ()))
    for waiter in waiters:
        waiter.wake()


@contextmanager
def _registered(topic: str, waiter: _Waiter) -> Iterator[_Waiter]:
    with _waiters_lock:
        _waiters.setdefault(topic, set()).add(waiter)
    try:
        yield waiter
    finally:
        with _waiters_lock:
            topic_waiters = _waiters.get(topic, set())
            topic_waiters.discard(waiter)
            if not topic_waiters:
                _waiters.pop(topic, None)


class _RedisListener(threading.Thread):
    """The process's one subscription; reconnects after an outage."""

    def __init__(self, url: str) -> None:
        super().__init__(name="wakeup-listener", daemon=True)
        self.url = url
        self.ready = threading.Event()

    def run(self) -> None:
        import redis

        while True:
            try:
                client = redis.Redis.from_url(self.url, socket_connect_timeout=2)
                pubsub = client.pubsub(ignore_subscribe_messages=False)
                pubsub.subscribe(_channel(self.url))
                for message in pubsub.listen():
                    self._handle(message)
            except Exception:  # outage: waiters re-check meanwhile
                logger.warning("wake-up listener lost Redis", exc_info=True)
            self.ready.clear()
            time.sleep(RECONNECT_SECONDS)

    def _handle(self, message: dict) -> None:
        if message["type"] == "subscribe":
            self.ready.set()
        elif message["type"] == "message":
            _wake_local(message["data"].decode(errors="replace"))


_listener: _RedisListener | None = None
_publisher = None
_publish_paused_until = 0.0
_start_lock = threading.Lock()


def _redis_url() -> str:
    return getattr(settings, "WAKEUP_REDIS_URL", "")


def _channel(url: str) -> str:
    database = urlsplit(url).path.strip("/") or "0"
    return CHANNEL_PREFIX + database


def _ensure_listener() -> _RedisListener | None:
    """The running listener (started on first use), or None without Redis."""
    global _listener
    url = _redis_url()
    if not url:
        return None
    with _start_lock:
        # Not alive: a process forked from one that had started it.
        if _listener is None or _listener.url != url or not _listener.is_alive():
            _listener = _RedisListener(url)
            _listener.start()
    return _listener


def recheck_seconds() -> float:
    """How often a waiter looks again without a wake-up."""
    listener = _listener if _redis_url() else None
    if listener is not None and listener.ready.is_set():
        return RECHECK_WITH_REDIS_SECONDS
    return RECHECK_EMBEDDED_SECONDS


def wakeup_send(topic: str) -> None:
    """Wake the waiters of ``topic`` in every process (call after commit).

    Never raises: a failed publish is logged and the waiters' re-checks
    see the change a little later.
    """
    _wake_local(topic)
    url = _redis_url()
    global _publisher, _publish_paused_until
    if not url or time.monotonic() < _publish_paused_until:
        return
    try:
        if _publisher is None or _publisher.url != url:
            import redis

            _publisher = redis.Redis.from_url(
                url, socket_connect_timeout=1, socket_timeout=1
            )
            _publisher.url = url
        _publisher.publish(_channel(url), topic)
    except Exception:  # never fail the work that committed
        _publish_paused_until = time.monotonic() + PUBLISH_PAUSE_SECONDS
        logger.warning("wake-up for %s not published", topic, exc_info=True)


async def wait_until(
    topic: str, check: Callable[[], Awaitable[tuple[bool, T]]], *, timeout: float
) -> T:
    """Await ``check()`` (``(done, value)``) until it is done or ``timeout``
    seconds have passed; the last value either way. Checks once at the
    start and again on each wake-up of ``topic`` or re-check interval."""
    listener = _ensure_listener()
    if listener is not None and not listener.ready.is_set():
        await asyncio.to_thread(listener.ready.wait, 1.0)
    deadline = time.monotonic() + timeout
    with _registered(topic, _Waiter(asyncio.get_running_loop())) as waiter:
        done, value = await check()
        while not done and (left := deadline - time.monotonic()) > 0:
            with suppress(TimeoutError):
                await asyncio.wait_for(
                    waiter.event.wait(), min(left, recheck_seconds())
                )
            waiter.event.clear()
            done, value = await check()
    return value


def wait_until_blocking(
    topic: str, check: Callable[[], tuple[bool, T]], *, timeout: float
) -> T:
    """``wait_until`` for a thread of a WSGI server (it holds the thread)."""
    listener = _ensure_listener()
    if listener is not None:
        listener.ready.wait(1.0)
    deadline = time.monotonic() + timeout
    with _registered(topic, _Waiter()) as waiter:
        done, value = check()
        while not done and (left := deadline - time.monotonic()) > 0:
            waiter.event.wait(min(left, recheck_seconds()))
            waiter.event.clear()
            done, value = check()
    return value
