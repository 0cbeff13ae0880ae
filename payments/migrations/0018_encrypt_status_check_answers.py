"""Transaction Status answers name the parties (DebitPartyName is a phone
number and a name): encrypted at rest like the events' bodies."""

from django.db import migrations

import core.fields
from core.reencrypt import rewrite_table


def encrypt_rows(apps, schema_editor):
    rewrite_table(
        schema_editor.connection,
        table="payments_transactionstatuscheck",
        columns=("answer",),
    )


class Migration(migrations.Migration):
    dependencies = [("payments", "0017_encrypt_stored_rows")]

    operations = [
        migrations.AlterField(
            model_name="transactionstatuscheck",
            name="answer",
            field=core.fields.EncryptedJSONField(blank=True, null=True),
        ),
        migrations.RunPython(encrypt_rows, migrations.RunPython.noop),
    ]
