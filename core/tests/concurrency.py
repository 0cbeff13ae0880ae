"""Run functions on threads that start together (race tests on PostgreSQL)."""

import threading
from collections.abc import Callable

from django.db import connection


def run_at_once(*functions: Callable[[], object]) -> list[Exception]:
    """Call each function on its own thread, released together by a barrier.

    Returns the exceptions they raised (the test asserts on them). Each
    thread closes its own database connection, so the test database can be
    dropped afterwards.
    """
    barrier = threading.Barrier(len(functions))
    errors: list[Exception] = []

    def runner(function: Callable[[], object]) -> None:
        try:
            barrier.wait()
            function()
        except Exception as exc:  # collected and asserted by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(f,)) for f in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors
