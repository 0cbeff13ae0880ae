"""The ``payments.view_full_phone`` permission (issue 11, point 8).

Declared in ``Payment.Meta.permissions`` and created by Django after
migrating; given to no group, so the admin masks phone numbers for
Support and Finance unless someone is granted it on purpose.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0006_payment_review_code"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="payment",
            options={
                "ordering": ("-created_at", "-id"),
                "permissions": [("view_full_phone", "Can view full phone numbers")],
            },
        ),
    ]
