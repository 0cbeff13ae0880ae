"""Issue 18: the callback's writes keep fewer indexes in step.

Drops the ``varchar_pattern_ops`` ``_like`` copies of the payments app's
indexed CharFields (``core.like_indexes``: no query here filters them by a
case-sensitive prefix) and the single-column index on
``PaymentEvent.payment``, which ``event_payment_created``
(``payment_id, created_at``) already serves. On SQLite, altering
payments_paymentevent rebuilds the table, which drops its append-only
trigger: the first and last operations install it again (as 0016).
"""

import django.db.models.deletion
from django.db import migrations, models

from core.like_indexes import drop_like_indexes
from payments.event_guard import reinstall_sqlite_trigger


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0019_review_code_statement_amount_mismatch"),
    ]

    operations = [
        # Unapplied last: the rebuilt table gets its trigger back.
        migrations.RunPython(migrations.RunPython.noop, reinstall_sqlite_trigger),
        drop_like_indexes(
            "payments",
            [
                ("payment", "checkout_request_id"),
                ("payment", "merchant_request_id"),
                ("payment", "mpesa_receipt_number"),
                ("payment", "phone_index"),
                ("payment", "phone_masked_key"),
                ("payment", "paid_phone_index"),
                ("paymentevent", "checkout_request_id"),
                ("mpesareceipt", "receipt_number"),
                ("mpesareceipt", "payer_phone_index"),
                ("mpesareceipt", "payer_phone_masked_key"),
            ],
        ),
        migrations.AlterField(
            model_name="paymentevent",
            name="payment",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="events",
                to="payments.payment",
            ),
        ),
        migrations.RunPython(reinstall_sqlite_trigger, migrations.RunPython.noop),
    ]
