"""Issue 18: the booking's confirmation keeps one index fewer in step
(the ``varchar_pattern_ops`` copy of ``reference``; ``core.like_indexes``)."""

from django.db import migrations

from core.like_indexes import drop_like_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0007_advocate_email"),
    ]

    operations = [drop_like_indexes("bookings", [("booking", "reference")])]
