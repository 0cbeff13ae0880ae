"""Exactly one beat schedules, even when two are started (core/beat.py)."""

import datetime
import subprocess
import sys
import textwrap

import pytest
from django.db import connection, connections
from django.utils import timezone

from core.beat import (
    FileBeatLock,
    PostgresBeatLock,
    SingletonScheduler,
    beat_lock_for_database,
)
from hakiyetu.celery import app


class RecordingScheduler(SingletonScheduler):
    """The real scheduler, recording what it would queue instead of queueing."""

    def __init__(self, *args, **kwargs):
        self.queued: list[str] = []
        super().__init__(app, *args, **kwargs)
        hour_ago = timezone.now() - datetime.timedelta(hours=1)
        for entry in self.schedule.values():
            entry.last_run_at = hour_ago

    def apply_async(self, entry, producer=None, advance=True, **kwargs):
        self.queued.append(entry.task)


def _tick_until_idle(scheduler, ticks=20):
    for _ in range(ticks):
        scheduler.tick()


def test_file_lock_is_exclusive_and_freed_on_release(tmp_path):
    path = tmp_path / "beat.lock"
    first, second = FileBeatLock(path), FileBeatLock(path)
    assert first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


def test_file_lock_held_by_another_process_keeps_this_one_standing_by(tmp_path):
    lock_path = tmp_path / "beat.lock"
    holder = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed code)
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import fcntl, os, sys, time
                fd = os.open({str(lock_path)!r}, os.O_RDWR | os.O_CREAT)
                fcntl.flock(fd, fcntl.LOCK_EX)
                print("locked", flush=True)
                sys.stdin.readline()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert not FileBeatLock(lock_path).acquire()
    finally:
        holder.communicate("done\n", timeout=10)
    lock = FileBeatLock(lock_path)
    assert lock.acquire(), "the lock dies with the process that held it"
    lock.release()


def test_second_scheduler_queues_nothing_until_the_first_stops(tmp_path, settings):
    settings.BEAT_LOCK_RETRY_SECONDS = 7.0
    first = RecordingScheduler(lock=FileBeatLock(tmp_path / "beat.lock"))
    second = RecordingScheduler(lock=FileBeatLock(tmp_path / "beat.lock"))

    _tick_until_idle(first)
    assert second.tick() == 7.0
    _tick_until_idle(second)

    expected = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert set(first.queued) == expected
    assert second.queued == []

    first.close()
    _tick_until_idle(second)
    assert set(second.queued) == expected
    second.close()


@pytest.mark.django_db
def test_sqlite_gets_the_file_lock(settings, tmp_path):
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only")
    settings.BEAT_LOCK_FILE = str(tmp_path / "beat.lock")
    lock = beat_lock_for_database()
    assert isinstance(lock, FileBeatLock)
    assert str(lock.path) == settings.BEAT_LOCK_FILE


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_advisory_lock_is_exclusive_and_freed_with_its_connection():
    first, second = PostgresBeatLock(), PostgresBeatLock()
    try:
        assert isinstance(beat_lock_for_database(), PostgresBeatLock)
        assert first.acquire()
        assert first.still_held()
        assert not second.acquire()
        assert not second.still_held()
        first.release()
        assert second.acquire()
    finally:
        first.release()
        second.release()


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_beat_whose_connection_is_killed_stops_and_the_standby_takes_over():
    holder = RecordingScheduler(lock=PostgresBeatLock())
    standby = RecordingScheduler(lock=PostgresBeatLock())
    try:
        _tick_until_idle(holder)
        _tick_until_idle(standby)
        assert holder.queued
        assert standby.queued == []

        with holder.beat_lock._connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend_pid = cursor.fetchone()[0]
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend_pid])

        _tick_until_idle(standby)  # the lock died with the holder's session
        _tick_until_idle(holder)  # notices it lost the lock; cannot take it back
        expected = {entry.task for entry in standby.schedule.values()}
        assert set(standby.queued) == expected
        assert not holder.holds_lock
    finally:
        holder.close()
        standby.close()
