"""Retries of idempotent Daraja calls (OAuth, STK query, Transaction
Status): bounded exponential backoff with full jitter, ``Retry-After`` as a
floor. Calls that prompt or move money are never retried.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import TypeVar

from payments.daraja.exceptions import DarajaUnavailable

logger = logging.getLogger(__name__)

T = TypeVar("T")


def backoff_delay(
    attempt: int, *, base: float, cap: float, retry_after: float | None = None
) -> float:
    """Seconds to wait after failed ``attempt`` (1-based).

    Full jitter (uniform in ``[0, min(cap, base * 2**(attempt-1))]``) spreads
    the retries of many workers; ``Retry-After``, when sent, is a floor.
    """
    ceiling = min(cap, base * 2 ** (attempt - 1))
    delay = random.uniform(0, ceiling)  # noqa: S311 - jitter, not security
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def call_with_retries(
    call: Callable[[], T],
    *,
    operation: str,
    max_attempts: int,
    base: float,
    cap: float,
    sleep: Callable[[float], object],
) -> T:
    """Return ``call()``, retrying ``DarajaUnavailable`` at most
    ``max_attempts`` times in all.

    A ``Retry-After`` longer than ``cap`` is not slept through: the error is
    raised at once with its ``retry_after`` so the caller (a Celery task)
    can reschedule instead of holding a worker.

    Raises:
        DarajaUnavailable: the last attempt's error.
    """
    attempt = 1
    while True:
        try:
            return call()
        except DarajaUnavailable as exc:
            if attempt >= max_attempts or (exc.retry_after or 0) > cap:
                raise
            delay = backoff_delay(
                attempt, base=base, cap=cap, retry_after=exc.retry_after
            )
            logger.warning(
                "Daraja %s unavailable (attempt %s of %s: %s); retrying in %.2f s",
                operation,
                attempt,
                max_attempts,
                exc.message,
                delay,
            )
            sleep(delay)
            attempt += 1
