"""Phone numbers and Daraja's bodies become encrypted columns (text) with
searchable index columns; 0017 encrypts the rows already stored.

On SQLite, altering payments_paymentevent rebuilds the table, which drops its
append-only trigger: the last operation installs it again.
"""

from django.db import migrations

import core.fields
from payments.event_guard import reinstall_sqlite_trigger


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0015_receipt_sighting_daraja_result"),
    ]

    operations = [
        migrations.AddField(
            model_name="mpesareceipt",
            name="payer_phone_index",
            field=core.fields.PhoneIndexField(
                blank=True,
                db_index=True,
                default="",
                editable=False,
                kind="payer",
                max_length=64,
                source="payer_phone",
            ),
        ),
        migrations.AddField(
            model_name="mpesareceipt",
            name="payer_phone_masked_key",
            field=core.fields.PhoneIndexField(
                blank=True,
                db_index=True,
                default="",
                editable=False,
                kind="visible_mask",
                max_length=32,
                source="payer_phone",
            ),
        ),
        migrations.AddField(
            model_name="payment",
            name="paid_phone_index",
            field=core.fields.PhoneIndexField(
                blank=True,
                db_index=True,
                default="",
                editable=False,
                kind="phone",
                max_length=64,
                source="paid_phone_number",
            ),
        ),
        migrations.AddField(
            model_name="payment",
            name="phone_index",
            field=core.fields.PhoneIndexField(
                blank=True,
                db_index=True,
                default="",
                editable=False,
                kind="phone",
                max_length=64,
                source="phone_number",
            ),
        ),
        migrations.AddField(
            model_name="payment",
            name="phone_masked_key",
            field=core.fields.PhoneIndexField(
                blank=True,
                db_index=True,
                default="",
                editable=False,
                kind="display_mask",
                max_length=16,
                source="phone_number",
            ),
        ),
        migrations.AddField(
            model_name="refund",
            name="recipient_phone_index",
            field=core.fields.PhoneIndexField(
                blank=True,
                db_index=True,
                default="",
                editable=False,
                kind="phone",
                max_length=64,
                source="recipient_phone",
            ),
        ),
        migrations.AlterField(
            model_name="mpesareceipt",
            name="payer_phone",
            field=core.fields.EncryptedTextField(
                blank=True,
                default="",
                help_text="As Daraja gave it: full, masked or hashed; shown masked.",
            ),
        ),
        migrations.AlterField(
            model_name="payment",
            name="paid_phone_number",
            field=core.fields.EncryptedTextField(blank=True, default=""),
        ),
        migrations.AlterField(
            model_name="payment",
            name="phone_number",
            field=core.fields.EncryptedTextField(help_text="2547XXXXXXXX"),
        ),
        migrations.AlterField(
            model_name="paymentevent",
            name="headers",
            field=core.fields.EncryptedJSONField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="paymentevent",
            name="raw_body",
            field=core.fields.EncryptedTextField(blank=True, default=""),
        ),
        migrations.AlterField(
            model_name="paymentevent",
            name="request_body",
            field=core.fields.EncryptedJSONField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="paymentevent",
            name="response_body",
            field=core.fields.EncryptedJSONField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="refund",
            name="recipient_phone",
            field=core.fields.EncryptedTextField(
                blank=True,
                default="",
                help_text="B2C only: the 2547... number the money goes to; shown masked.",
            ),
        ),
        migrations.RunPython(reinstall_sqlite_trigger, reinstall_sqlite_trigger),
    ]
