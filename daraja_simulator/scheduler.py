"""Run jobs at a later time on a small thread pool.

One timer thread keeps a heap of due times and hands due jobs to a pool,
so thousands of pending prompts cost no threads, and a slow callback
receiver does not hold up the others.
"""

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

logger = logging.getLogger(__name__)


class Scheduler:
    """``call_later(delay, job)``; ``stop()`` drops jobs not yet due."""

    def __init__(self, workers: int = 16) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._condition = threading.Condition()
        self._stopped = False
        self._pool = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="simulator-job"
        )
        self._thread = threading.Thread(
            target=self._run, name="simulator-timer", daemon=True
        )
        self._thread.start()

    def call_later(self, delay: float, job: Callable[[], None]) -> None:
        """Run ``job`` on the pool after ``delay`` seconds."""
        with self._condition:
            if self._stopped:
                return
            due = time.monotonic() + max(0.0, delay)
            heapq.heappush(self._heap, (due, next(self._order), job))
            self._condition.notify()

    def clear(self) -> None:
        """Drop every job not yet due."""
        with self._condition:
            self._heap.clear()

    def stop(self) -> None:
        """Stop the timer; jobs already running finish in the background."""
        with self._condition:
            self._stopped = True
            self._heap.clear()
            self._condition.notify()
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._stopped and not self._due_now():
                    self._condition.wait(timeout=self._wait_time())
                if self._stopped:
                    return
                _, _, job = heapq.heappop(self._heap)
            self._pool.submit(self._guarded, job)

    def _due_now(self) -> bool:
        return bool(self._heap) and self._heap[0][0] <= time.monotonic()

    def _wait_time(self) -> float | None:
        if not self._heap:
            return None
        return max(0.0, self._heap[0][0] - time.monotonic())

    @staticmethod
    def _guarded(job: Callable[[], None]) -> None:
        try:
            job()
        except Exception:  # a job's failure must not kill the pool
            logger.exception("simulator job failed")
