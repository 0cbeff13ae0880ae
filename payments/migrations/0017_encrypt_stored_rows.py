"""Encrypt the phone numbers and Daraja bodies stored before 0016, and fill
the phone index columns.

The append-only trigger of payments_paymentevent now lets an UPDATE through
on PostgreSQL only under ``SET LOCAL hakiyetu.reencrypt = 'on'`` and only
when every column but the encrypted ones is unchanged
(``payments.event_guard``); this migration and ``rotate_field_keys`` are the
only code that sets it. Backwards, the rows stay encrypted (0016 backwards
would fail on ciphertext too long for the old columns: restore a backup).
"""

from django.db import migrations

from core import crypto
from core.reencrypt import rewrite_table
from payments.event_guard import (
    ENCRYPTED_COLUMNS,
    PG_FUNCTION_ORIGINAL,
    PG_FUNCTION_REENCRYPT,
    events_reencryptable,
)


def allow_reencryption(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION_REENCRYPT)


def refuse_all_updates(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION_ORIGINAL)


def encrypt_rows(apps, schema_editor):
    connection = schema_editor.connection
    rewrite_table(
        connection,
        table="payments_payment",
        columns=("phone_number", "paid_phone_number"),
        indexes={
            "phone_index": ("phone_number", crypto.phone_index),
            "phone_masked_key": ("phone_number", crypto.display_masked_key),
            "paid_phone_index": ("paid_phone_number", crypto.phone_index),
        },
    )
    rewrite_table(
        connection,
        table="payments_mpesareceipt",
        columns=("payer_phone",),
        indexes={
            "payer_phone_index": ("payer_phone", crypto.payer_phone_index),
            "payer_phone_masked_key": ("payer_phone", crypto.visible_masked_key),
        },
    )
    rewrite_table(
        connection,
        table="payments_refund",
        columns=("recipient_phone",),
        indexes={"recipient_phone_index": ("recipient_phone", crypto.phone_index)},
    )
    rewrite_table(
        connection,
        table="payments_paymentevent",
        columns=ENCRYPTED_COLUMNS,
        guard=lambda: events_reencryptable(connection),
    )


class Migration(migrations.Migration):
    dependencies = [("payments", "0016_encrypted_phones")]

    operations = [
        migrations.RunPython(allow_reencryption, refuse_all_updates),
        migrations.RunPython(encrypt_rows, migrations.RunPython.noop),
    ]
