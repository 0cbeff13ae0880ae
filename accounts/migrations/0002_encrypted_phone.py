"""A client's default M-Pesa phone is encrypted at rest (core.crypto); the
numbers stored before are encrypted here."""

from django.db import migrations

import core.fields
from core.reencrypt import rewrite_table


def encrypt_rows(apps, schema_editor):
    rewrite_table(
        schema_editor.connection,
        table="accounts_clientprofile",
        columns=("phone_number",),
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_client_profile")]

    operations = [
        migrations.AlterField(
            model_name="clientprofile",
            name="phone_number",
            field=core.fields.EncryptedTextField(blank=True),
        ),
        migrations.RunPython(encrypt_rows, migrations.RunPython.noop),
    ]
