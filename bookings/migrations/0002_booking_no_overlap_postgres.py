"""No double booking on PostgreSQL: an exclusion constraint over the
advocate and the booked time range of pending and confirmed bookings.

Runs only on PostgreSQL (other databases keep the partial unique constraint
of 0001 and the service's overlap check). It is not in ``Booking.Meta``
because SQLite cannot create it; the model state does not know it, so
``makemigrations`` leaves it alone.
"""

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations
from django.db.models import Func, Q

CONSTRAINT_NAME = "bookings_booking_no_overlap"


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


def _constraint() -> ExclusionConstraint:
    return ExclusionConstraint(
        name=CONSTRAINT_NAME,
        expressions=[
            ("advocate", RangeOperators.EQUAL),
            (TsTzRange("start", "end"), RangeOperators.OVERLAPS),
        ],
        condition=Q(status__in=["pending_payment", "confirmed"]),
    )


def add_exclusion_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.add_constraint(apps.get_model("bookings", "Booking"), _constraint())


def remove_exclusion_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.remove_constraint(
        apps.get_model("bookings", "Booking"), _constraint()
    )


class Migration(migrations.Migration):
    dependencies = [("bookings", "0001_initial")]

    operations = [
        # A no-op on databases other than PostgreSQL.
        BtreeGistExtension(),
        migrations.RunPython(add_exclusion_constraint, remove_exclusion_constraint),
    ]
