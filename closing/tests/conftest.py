"""Shallow fixtures for the daily close tests: a fixed clock after the
tested day, and the people."""

from datetime import datetime, time

import pytest

from closing.tests.support import TODAY, nairobi
from payments.tests.conftest import _callback_settings  # noqa: F401 (autouse)
from payments.tests.refund_support import staff_in


@pytest.fixture(autouse=True)
def clock(time_machine) -> datetime:
    """Today is ``TODAY`` (after ``DAY``) at 09:00 in Nairobi."""
    now = nairobi(TODAY, time(9, 0))
    time_machine.move_to(now, tick=False)
    return now


@pytest.fixture
def finance_user():
    """A staff user in the Finance group (migration 0001 grants the close)."""
    return staff_in("Finance")


@pytest.fixture
def support_user():
    """Staff, but not Finance."""
    return staff_in("Support")
