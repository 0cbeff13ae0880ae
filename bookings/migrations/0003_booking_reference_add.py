"""Booking.reference, step 1 of 3: a nullable column (no default, so the
existing rows are not all given one value)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("bookings", "0002_booking_no_overlap_postgres")]

    operations = [
        migrations.AddField(
            model_name="booking",
            name="reference",
            field=models.CharField(max_length=8, null=True, editable=False),
        ),
    ]
