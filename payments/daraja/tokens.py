"""The shared OAuth token: one cache entry, one fetcher at a time.

Daraja may invalidate the previous token whenever a new one is issued
(daraja.md section 1), so every process must share a single token through
Django's cache, and only one caller may fetch at a time: a thread lock
inside the process, plus an atomic ``cache.add`` lock across processes
(atomic on Redis, Memcached, the database and local-memory caches).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable

from django.core.cache.backends.base import BaseCache

from payments.daraja.exceptions import DarajaUnavailable

logger = logging.getLogger(__name__)

# Refresh this long before Daraja's expires_in (3599 s), so a token is never
# used in its last minutes: requests in flight and clock skew stay covered.
EXPIRY_MARGIN_SECONDS = 300
POLL_INTERVAL_SECONDS = 0.05

TokenFetcher = Callable[[], tuple[str, int]]

_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


def _process_lock(key: str) -> threading.Lock:
    with _process_locks_guard:
        return _process_locks.setdefault(key, threading.Lock())


class TokenStore:
    """Reads, and refreshes under a lock, the token for one app and host."""

    def __init__(
        self, cache: BaseCache, *, base_url: str, consumer_key: str, lock_seconds: float
    ) -> None:
        digest = hashlib.sha256(f"{base_url}\n{consumer_key}".encode()).hexdigest()
        self.key = f"daraja:token:{digest[:32]}"
        self.lock_key = f"daraja:token-lock:{digest[:32]}"
        self._cache = cache
        # The lock outlives one OAuth request; waiters give up a bit later,
        # so a crashed holder's lock expires before anyone gives up.
        self._lock_seconds = lock_seconds
        self._wait_seconds = lock_seconds + 2

    def get(self) -> str | None:
        """Return the cached token if it has not reached its refresh time."""
        entry = self._cache.get(self.key)
        if not isinstance(entry, dict) or not entry.get("token"):
            return None
        # Checked here as well as by the cache TTL: Redis expires keys on
        # the server's clock, and the two must agree.
        if time.time() >= entry.get("refresh_at", 0):
            return None
        return entry["token"]

    def obtain(self, fetch: TokenFetcher, *, stale: str | None = None) -> str:
        """Return a valid token, calling ``fetch`` only if nobody else does.

        ``stale`` is a token Daraja refused: it is never returned, and a
        token stored meanwhile by another process is used instead of
        fetching again (so a fresh token is never evicted).

        Raises:
            DarajaUnavailable: another holder kept the lock for too long.
            Whatever ``fetch`` raises.
        """
        lock = _process_lock(self.key)
        if not lock.acquire(timeout=self._wait_seconds):
            raise DarajaUnavailable("Timed out waiting for a Daraja token refresh")
        try:
            return self._obtain_across_processes(fetch, stale)
        finally:
            lock.release()

    def _obtain_across_processes(self, fetch: TokenFetcher, stale: str | None) -> str:
        deadline = time.monotonic() + self._wait_seconds
        owner = uuid.uuid4().hex
        while True:
            token = self.get()
            if token is not None and token != stale:
                return token
            if self._cache.add(self.lock_key, owner, timeout=self._lock_seconds):
                try:
                    return self._fetch_and_store(fetch, stale)
                finally:
                    self._release(owner)
            if time.monotonic() >= deadline:
                raise DarajaUnavailable("Timed out waiting for a Daraja token refresh")
            time.sleep(POLL_INTERVAL_SECONDS)

    def _fetch_and_store(self, fetch: TokenFetcher, stale: str | None) -> str:
        token = self.get()  # another process may have stored one meanwhile
        if token is not None and token != stale:
            return token
        token, expires_in = fetch()
        ttl = expires_in - EXPIRY_MARGIN_SECONDS
        if ttl <= 0:
            logger.warning(
                "Daraja token lifetime %s s is too short to cache", expires_in
            )
            return token
        entry = {"token": token, "refresh_at": time.time() + ttl}
        self._cache.set(self.key, entry, timeout=ttl)
        logger.info("Cached a new Daraja access token for %s s", ttl)
        return token

    def _release(self, owner: str) -> None:
        # Only our own lock: if it expired and another took it, keep theirs.
        if self._cache.get(self.lock_key) == owner:
            self._cache.delete(self.lock_key)
