from datetime import date, time

import pytest

from bookings.api.fields import parse_local_date, parse_slot_time


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-02", date(2026, 12, 2)),
        # The SPA's toISOString() of local midnight, 2 December in Nairobi.
        ("2026-12-01T21:00:00.000Z", date(2026, 12, 2)),
        ("2026-12-02T00:30:00+03:00", date(2026, 12, 2)),
        ("2026-12-02T10:00:00", date(2026, 12, 2)),
        ("2026-12-02T22:00:00Z", date(2026, 12, 3)),
    ],
)
def test_parse_local_date_uses_nairobi_calendar_date(value, expected):
    # when / then
    assert parse_local_date(value) == expected


@pytest.mark.parametrize("value", ["", "tomorrow", "2026-13-01", "02/12/2026"])
def test_parse_local_date_rejects_garbage(value):
    # when / then
    assert parse_local_date(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("09:30", time(9, 30)),
        ("9:30", time(9, 30)),
        ("14:00", time(14, 0)),
        ("14:00:00", time(14, 0)),
        ("2:30 PM", time(14, 30)),
        ("2:30pm", time(14, 30)),
        ("12:00 PM", time(12, 0)),
        ("12:15 AM", time(0, 15)),
        ("10:00 am", time(10, 0)),
    ],
)
def test_parse_slot_time_accepts_24h_and_12h(value, expected):
    # when / then
    assert parse_slot_time(value) == expected


@pytest.mark.parametrize("value", ["25:00", "9", "13:00 PM", "noon", "9:60"])
def test_parse_slot_time_rejects_garbage(value):
    # when / then
    assert parse_slot_time(value) is None
