"""Booking.reference, step 2 of 3: a unique reference for every existing row."""

from django.db import migrations

from bookings.references import booking_reference_new

BATCH = 500


def backfill(apps, schema_editor) -> None:
    """Give each booking without a reference a new one, unique among all."""
    Booking = apps.get_model("bookings", "Booking")
    manager = Booking.objects.using(schema_editor.connection.alias)
    taken = set(manager.exclude(reference=None).values_list("reference", flat=True))
    pending = []
    for booking in manager.filter(reference=None).only("pk").iterator():
        reference = booking_reference_new()
        while reference in taken:
            reference = booking_reference_new()
        taken.add(reference)
        booking.reference = reference
        pending.append(booking)
        if len(pending) >= BATCH:
            manager.bulk_update(pending, ["reference"])
            pending = []
    if pending:
        manager.bulk_update(pending, ["reference"])


class Migration(migrations.Migration):
    dependencies = [("bookings", "0003_booking_reference_add")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
