"""Shallow fixtures for the bookings tests; data comes from factories."""

from datetime import date, datetime

import pytest
from rest_framework.test import APIClient

from core.time import NAIROBI


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


# Tuesday 1 December 2026, 08:00 in Nairobi; "tomorrow" is a Wednesday.
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=NAIROBI)
TOMORROW = date(2026, 12, 2)


@pytest.fixture
def frozen_now(time_machine) -> datetime:
    """Freeze the clock at ``NOW`` (ticking off) and return it."""
    time_machine.move_to(NOW, tick=False)
    return NOW
