"""core/wakeups.py: waiters look again on a wake-up, never fail the sender."""

import asyncio
import logging
import threading
import uuid

import pytest

from core import wakeups


@pytest.fixture
def no_redis(settings):
    settings.WAKEUP_REDIS_URL = ""


@pytest.fixture
def rechecks_a_minute_apart(monkeypatch):
    monkeypatch.setattr(wakeups, "RECHECK_EMBEDDED_SECONDS", 60.0)
    monkeypatch.setattr(wakeups, "RECHECK_WITH_REDIS_SECONDS", 60.0)


def _looks_done_from(number: int):
    looks = []

    def check() -> tuple[bool, int]:
        looks.append(1)
        return len(looks) >= number, len(looks)

    return check


@pytest.mark.usefixtures("no_redis", "rechecks_a_minute_apart")
def test_a_wakeup_in_this_process_makes_a_blocking_waiter_look_again():
    # given
    topic = f"test:{uuid.uuid4()}"
    timer = threading.Timer(0.2, wakeups.wakeup_send, args=(topic,))
    timer.start()
    # when
    looks = wakeups.wait_until_blocking(topic, _looks_done_from(2), timeout=30)
    # then
    timer.join()
    assert looks == 2


@pytest.mark.usefixtures("no_redis", "rechecks_a_minute_apart")
def test_a_wakeup_from_another_thread_makes_an_async_waiter_look_again():
    # given
    topic = f"test:{uuid.uuid4()}"
    check = _looks_done_from(2)

    async def checked() -> tuple[bool, int]:
        return check()

    timer = threading.Timer(0.2, wakeups.wakeup_send, args=(topic,))
    timer.start()
    # when
    looks = asyncio.run(wakeups.wait_until(topic, checked, timeout=30))
    # then
    timer.join()
    assert looks == 2


@pytest.mark.usefixtures("no_redis")
def test_a_wait_that_runs_out_returns_the_last_look(monkeypatch):
    # given: a condition that never holds, re-checked every 0.05 s
    monkeypatch.setattr(wakeups, "RECHECK_EMBEDDED_SECONDS", 0.05)
    looks = []

    def check() -> tuple[bool, int]:
        looks.append(1)
        return False, len(looks)

    # when
    last = wakeups.wait_until_blocking(f"test:{uuid.uuid4()}", check, timeout=0.3)
    # then: it looked again without a wake-up, and answered with the last look
    assert len(looks) > 1
    assert last == len(looks)


@pytest.mark.usefixtures("no_redis")
def test_a_waiter_is_forgotten_after_its_wait():
    # given
    topic = f"test:{uuid.uuid4()}"
    # when
    wakeups.wait_until_blocking(topic, _looks_done_from(1), timeout=5)
    # then
    assert topic not in wakeups._waiters


def test_an_unreachable_redis_never_fails_the_sender_and_pauses(
    settings, monkeypatch, caplog
):
    # given: nothing listens on port 1
    settings.WAKEUP_REDIS_URL = "redis://127.0.0.1:1/0"
    monkeypatch.setattr(wakeups, "_publisher", None)
    monkeypatch.setattr(wakeups, "_publish_paused_until", 0.0)
    # when
    with caplog.at_level(logging.WARNING, logger="core.wakeups"):
        wakeups.wakeup_send("test:a")
        wakeups.wakeup_send("test:b")
    # then: one failed attempt, the second skipped during the pause
    warnings = [r for r in caplog.records if "not published" in r.getMessage()]
    assert len(warnings) == 1


def test_channels_carry_the_redis_database_number():
    # given / when
    channels = {
        wakeups._channel(url)
        for url in ("redis://r:6379/1", "redis://r:6379/2", "redis://r:6379")
    }
    # then
    assert channels == {
        "hakiyetu:wakeups:1",
        "hakiyetu:wakeups:2",
        "hakiyetu:wakeups:0",
    }
