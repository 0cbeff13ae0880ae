"""Migrations 0003-0005: existing bookings get unique references."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from bookings.references import booking_reference_normalise

BEFORE = [("bookings", "0002_booking_no_overlap_postgres")]
AFTER = [("bookings", "0005_booking_reference_unique")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_backfill_gives_every_existing_booking_a_unique_reference():
    # given: bookings made before the column existed
    old = _migrate(BEFORE)
    User = old.get_model("auth", "User")
    Advocate = old.get_model("bookings", "Advocate")
    Booking = old.get_model("bookings", "Booking")
    client = User.objects.create(username="before-references")
    advocate = Advocate.objects.create(name="Wanjiru")
    start = timezone.now() + timedelta(days=1)
    for i in range(5):
        Booking.objects.create(
            client=client,
            advocate=advocate,
            consultation_type="video",
            duration=30,
            start=start + timedelta(hours=i),
            end=start + timedelta(hours=i, minutes=30),
            amount=3000,
            status="cancelled",
            expires_at=start,
        )
    try:
        # when
        new = _migrate(AFTER)
        # then
        references = list(
            new.get_model("bookings", "Booking").objects.values_list(
                "reference", flat=True
            )
        )
        assert len(references) == 5
        assert len(set(references)) == 5
        assert all(booking_reference_normalise(r) == r for r in references)
    finally:
        _migrate(_latest())
