"""Booking.reference, step 3 of 3: required and unique, new rows get one."""

from django.db import migrations, models

import bookings.references


class Migration(migrations.Migration):
    dependencies = [("bookings", "0004_booking_reference_backfill")]

    operations = [
        migrations.AlterField(
            model_name="booking",
            name="reference",
            field=models.CharField(
                default=bookings.references.booking_reference_new,
                editable=False,
                help_text=(
                    "HY + 6 characters without 0/O/1/I/L; the M-Pesa account number."
                ),
                max_length=8,
                unique=True,
            ),
        ),
    ]
