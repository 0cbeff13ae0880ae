from datetime import time, timedelta

from bookings.availability import free_slots, slot_grid
from bookings.tests.clock import TOMORROW, at
from core.time import NAIROBI

DAY = TOMORROW


def test_slot_grid_fits_duration_inside_window():
    # when
    grid = slot_grid(day=DAY, windows=[(time(9), time(11))], duration=60)
    # then
    assert grid == [at(9), at(9, 30), at(10)]


def test_slot_grid_merges_windows_in_order():
    # when
    grid = slot_grid(
        day=DAY, windows=[(time(14), time(15)), (time(9), time(10))], duration=30
    )
    # then
    assert grid == [at(9), at(9, 30), at(14), at(14, 30)]


def test_slot_grid_is_in_nairobi_time():
    # when
    grid = slot_grid(day=DAY, windows=[(time(9), time(9, 30))], duration=30)
    # then
    assert grid[0].utcoffset() == timedelta(hours=3)
    assert grid[0].tzinfo == NAIROBI


def test_free_slots_skips_overlapping_busy_ranges():
    # given
    grid = [at(9), at(9, 30), at(10), at(10, 30)]
    # when
    free = free_slots(grid=grid, busy=[(at(9, 30), at(10))], duration=60, now=at(0))
    # then
    assert free == [at(10), at(10, 30)]


def test_free_slots_leaves_start_at_end_of_busy_range_free():
    # when
    free = free_slots(grid=[at(10)], busy=[(at(9), at(10))], duration=30, now=at(0))
    # then
    assert free == [at(10)]


def test_free_slots_drops_past_and_current_starts():
    # when
    free = free_slots(
        grid=[at(9), at(9, 30), at(10)], busy=[], duration=30, now=at(9, 30)
    )
    # then
    assert free == [at(10)]
