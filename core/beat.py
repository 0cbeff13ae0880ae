"""Celery beat that runs on one host only, however many are started.

Two beats would queue every sweep twice (harmless for the sweeps, which
claim rows with ``SKIP LOCKED``, but double the load and the alerts), so
``SingletonScheduler`` ticks only while it holds a lock:

- on PostgreSQL, a session advisory lock on a connection of its own: the
  lock dies with the process or the connection, so a standby beat takes
  over within ``BEAT_LOCK_RETRY_SECONDS`` of the holder going away;
- on SQLite (the embedded defaults: one machine), an exclusive ``flock``
  on a file next to the database, which the kernel frees the same way.

A beat without the lock stands by and retries. The schedule is kept in
memory (Celery's base ``Scheduler``): a persistent shelve file shared by two
beats on one host is exactly what must not happen, and every entry here is
an interval sweep that loses nothing by starting its interval again.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

from celery.beat import Scheduler
from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

# pg_try_advisory_lock takes a bigint; any constant unique to this purpose.
BEAT_ADVISORY_LOCK_KEY = 0x48_4B_59_42_45_41_54  # "HKYBEAT"


class PostgresBeatLock:
    """A session advisory lock held on a dedicated database connection."""

    def __init__(self, alias: str = "default") -> None:
        self.alias = alias
        self._connection = None

    def acquire(self) -> bool:
        if self._connection is None:
            self._connection = connections.create_connection(self.alias)
        try:
            with self._connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_try_advisory_lock(%s)", [BEAT_ADVISORY_LOCK_KEY]
                )
                return bool(cursor.fetchone()[0])
        except Exception:
            logger.warning("beat lock: database unreachable", exc_info=True)
            self.release()
            return False

    def still_held(self) -> bool:
        """The lock lives as long as its connection: check the connection."""
        if self._connection is None:
            return False
        try:
            with self._connection.cursor() as cursor:
                cursor.execute(
                    "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid = pg_backend_pid() AND granted "
                    "AND objsubid = 1 "
                    "AND ((classid::bigint << 32) | objid::bigint) = %s",
                    [BEAT_ADVISORY_LOCK_KEY],
                )
                return cursor.fetchone() is not None
        except Exception:
            logger.warning("beat lock: lost the database connection", exc_info=True)
            self.release()
            return False

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                logger.debug("beat lock: closing a broken connection", exc_info=True)
            self._connection = None


class FileBeatLock:
    """An exclusive flock on a file: one beat per machine (embedded defaults)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def still_held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def beat_lock_for_database(alias: str = "default"):
    """The lock that fits the configured database."""
    if connections[alias].vendor == "postgresql":
        return PostgresBeatLock(alias)
    return FileBeatLock(Path(settings.BEAT_LOCK_FILE))


class SingletonScheduler(Scheduler):
    """Celery's scheduler, ticking only while this process holds the beat lock."""

    def __init__(self, *args, lock=None, **kwargs) -> None:
        self.beat_lock = lock or beat_lock_for_database()
        self.holds_lock = False
        self._said_standing_by = False
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs) -> float:
        if self.holds_lock and not self.beat_lock.still_held():
            logger.error("beat lost its lock; standing by until it is free again")
            self.holds_lock = False
        if not self.holds_lock:
            self.holds_lock = self.beat_lock.acquire()
            if not self.holds_lock:
                if not self._said_standing_by:
                    logger.info("another beat holds the lock; standing by")
                    self._said_standing_by = True
                return settings.BEAT_LOCK_RETRY_SECONDS
            logger.info("beat lock taken: this beat schedules the sweeps")
            self._said_standing_by = False
        return super().tick(*args, **kwargs)

    def close(self) -> None:
        super().close()
        self.beat_lock.release()
        self.holds_lock = False
