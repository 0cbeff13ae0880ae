"""Shallow fixtures for the bookings tests; data comes from factories."""

from datetime import datetime

import pytest
from rest_framework.test import APIClient

from bookings.tests.clock import NOW


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def frozen_now(time_machine) -> datetime:
    """Freeze the clock at ``NOW`` (ticking off) and return it."""
    time_machine.move_to(NOW, tick=False)
    return NOW
