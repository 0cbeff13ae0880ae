"""Refunds (issue 14): ``Refund``, ``TransactionStatusCheck``, the event
log's links to them, and who may do what.

``Support`` may view refunds and request one; ``Finance`` may also approve
or reject. ``approve_large_refund`` (above REFUND_APPROVAL_LIMIT) is in no
group: an administrator grants it to named people. Both groups may ask
M-Pesa about a receipt (``verify_receipt``). Permissions are made with
get_or_create, as in 0003 and 0011.
"""

import importlib
import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

PERMISSIONS = {
    ("refund", "view_refund"): "Can view refund",
    ("refund", "request_refund"): "Can request refunds",
    ("refund", "approve_refund"): "Can approve or reject refunds",
    ("refund", "approve_large_refund"): (
        "Can approve refunds above REFUND_APPROVAL_LIMIT"
    ),
    ("transactionstatuscheck", "view_transactionstatuscheck"): (
        "Can view transaction status check"
    ),
    ("transactionstatuscheck", "verify_receipt"): ("Can verify a receipt with M-Pesa"),
}
GROUPS = {
    "Finance": (
        "view_refund",
        "request_refund",
        "approve_refund",
        "view_transactionstatuscheck",
        "verify_receipt",
    ),
    "Support": (
        "view_refund",
        "request_refund",
        "view_transactionstatuscheck",
        "verify_receipt",
    ),
}


def grant(apps, schema_editor) -> None:
    content_type_model = apps.get_model("contenttypes", "ContentType")
    permission_model = apps.get_model("auth", "Permission")
    found = {}
    for (model, codename), name in PERMISSIONS.items():
        content_type, _ = content_type_model.objects.get_or_create(
            app_label="payments", model=model
        )
        found[codename], _ = permission_model.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
    group_model = apps.get_model("auth", "Group")
    for name, codenames in GROUPS.items():
        group, _ = group_model.objects.get_or_create(name=name)
        group.permissions.add(*(found[codename] for codename in codenames))


def revoke(apps, schema_editor) -> None:
    permission_model = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.remove(
            *permission_model.objects.filter(
                content_type__app_label="payments",
                codename__in=GROUPS[group.name],
            )
        )


def _reinstall_append_only(apps, schema_editor) -> None:
    """Put back the trigger of 0002 that keeps PaymentEvent append-only:
    SQLite rebuilds a table to drop a column (unapplying this migration's
    new links), and the rebuilt table has no trigger. Idempotent."""
    append_only = importlib.import_module(
        "payments.migrations.0002_paymentevent_append_only"
    )
    append_only.remove(apps, schema_editor)
    append_only.install(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0006_booking_cancelled_at"),
        ("payments", "0013_review_code_paid_by_paybill_copy"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Unapplied last: the rebuilt table gets its trigger back.
        migrations.RunPython(migrations.RunPython.noop, _reinstall_append_only),
        migrations.AlterField(
            model_name="paymentevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("daraja_exchange", "Daraja request/response"),
                    ("callback", "Callback received"),
                    ("query_result", "STK query result"),
                    ("status_change", "Status change"),
                    ("staff_action", "Staff action"),
                    ("note", "Note"),
                    ("c2b_validation", "C2B validation received"),
                    ("c2b_confirmation", "C2B confirmation received"),
                    ("result", "Daraja result received"),
                    ("queue_timeout", "Daraja queue time-out received"),
                ],
                max_length=24,
            ),
        ),
        migrations.CreateModel(
            name="Refund",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("amount", models.PositiveIntegerField(help_text="Whole KES.")),
                (
                    "method",
                    models.CharField(
                        choices=[
                            ("reversal", "Reversal (whole receipt)"),
                            ("b2c", "B2C payment (part of the receipt)"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("cancelled", "Booking cancelled"),
                            ("paid_too_late", "Paid after the booking ended"),
                            ("duplicate_payment", "Paid twice"),
                            ("overpaid", "Paid more than owed"),
                            ("unknown_account", "Money we cannot place"),
                            ("goodwill", "Goodwill"),
                            ("other", "Other"),
                        ],
                        max_length=24,
                    ),
                ),
                ("reason_text", models.TextField(blank=True, default="")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("requested", "Requested"),
                            ("approved", "Approved"),
                            ("submitted", "Submitted to M-Pesa"),
                            ("completed", "Completed"),
                            ("failed", "Failed"),
                            ("rejected", "Rejected"),
                            ("cancelled", "Cancelled"),
                            ("unknown", "Outcome unknown"),
                        ],
                        default="requested",
                        max_length=12,
                    ),
                ),
                (
                    "recipient_phone",
                    models.CharField(
                        blank=True,
                        default="",
                        help_text="B2C only: the 2547... number the money goes to; shown masked.",
                        max_length=16,
                    ),
                ),
                ("decision_note", models.TextField(blank=True, default="")),
                (
                    "originator_conversation_id",
                    models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
                ),
                (
                    "daraja_originator_conversation_id",
                    models.CharField(
                        blank=True, db_index=True, default="", max_length=64
                    ),
                ),
                (
                    "conversation_id",
                    models.CharField(
                        blank=True, db_index=True, default="", max_length=64
                    ),
                ),
                (
                    "result_code",
                    models.CharField(blank=True, default="", max_length=16),
                ),
                ("result_description", models.TextField(blank=True, default="")),
                (
                    "refund_receipt_number",
                    models.CharField(
                        blank=True,
                        default="",
                        help_text="The M-Pesa receipt of the reversal or B2C payment itself.",
                        max_length=20,
                    ),
                ),
                ("approved_at", models.DateTimeField(blank=True, null=True)),
                ("submitted_at", models.DateTimeField(blank=True, null=True)),
                ("resolved_at", models.DateTimeField(blank=True, null=True)),
                (
                    "status_checked_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="Last Transaction Status query sent.",
                        null=True,
                    ),
                ),
                (
                    "approved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "booking",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="refunds",
                        to="bookings.booking",
                    ),
                ),
                (
                    "cancelled_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "outgoing_receipt",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="refund_sent",
                        to="payments.mpesareceipt",
                    ),
                ),
                (
                    "receipt",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="refunds",
                        to="payments.mpesareceipt",
                    ),
                ),
                (
                    "rejected_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ("-created_at", "-id"),
                "permissions": [
                    ("request_refund", "Can request refunds"),
                    ("approve_refund", "Can approve or reject refunds"),
                    (
                        "approve_large_refund",
                        "Can approve refunds above REFUND_APPROVAL_LIMIT",
                    ),
                ],
            },
        ),
        migrations.AddField(
            model_name="paymentevent",
            name="refund",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="events",
                to="payments.refund",
            ),
        ),
        migrations.CreateModel(
            name="TransactionStatusCheck",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "transaction_id",
                    models.CharField(
                        blank=True,
                        default="",
                        help_text="The receipt asked about.",
                        max_length=20,
                    ),
                ),
                (
                    "original_conversation_id",
                    models.CharField(blank=True, default="", max_length=64),
                ),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("sent", "Sent, awaiting M-Pesa's answer"),
                            ("answered", "Answered"),
                            ("failed", "Not accepted by Daraja"),
                            ("timed_out", "Queue time-out"),
                        ],
                        default="sent",
                        max_length=10,
                    ),
                ),
                (
                    "originator_conversation_id",
                    models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
                ),
                (
                    "conversation_id",
                    models.CharField(
                        blank=True, db_index=True, default="", max_length=64
                    ),
                ),
                (
                    "result_code",
                    models.CharField(blank=True, default="", max_length=16),
                ),
                ("result_description", models.TextField(blank=True, default="")),
                ("answer", models.JSONField(blank=True, null=True)),
                ("answered_at", models.DateTimeField(blank=True, null=True)),
                (
                    "refund",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="status_checks",
                        to="payments.refund",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ("-created_at", "-id"),
                "permissions": [("verify_receipt", "Can verify a receipt with M-Pesa")],
            },
        ),
        migrations.AddField(
            model_name="paymentevent",
            name="status_check",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="events",
                to="payments.transactionstatuscheck",
            ),
        ),
        migrations.AddIndex(
            model_name="refund",
            index=models.Index(
                fields=["status", "created_at"], name="refund_status_created"
            ),
        ),
        migrations.AddConstraint(
            model_name="refund",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gte", 1)), name="refund_amount_gte_1"
            ),
        ),
        migrations.AddConstraint(
            model_name="refund",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "status__in",
                        [
                            "requested",
                            "approved",
                            "submitted",
                            "completed",
                            "failed",
                            "rejected",
                            "cancelled",
                            "unknown",
                        ],
                    )
                ),
                name="refund_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="refund",
            constraint=models.CheckConstraint(
                condition=models.Q(("method__in", ["reversal", "b2c"])),
                name="refund_method_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="refund",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("approved_by__isnull", True),
                    models.Q(("approved_by", models.F("requested_by")), _negated=True),
                    _connector="OR",
                ),
                name="refund_approver_not_requester",
            ),
        ),
        migrations.AddConstraint(
            model_name="refund",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        (
                            "status__in",
                            ("approved", "submitted", "unknown", "completed", "failed"),
                        ),
                        _negated=True,
                    ),
                    ("approved_by__isnull", False),
                    _connector="OR",
                ),
                name="refund_approved_before_sent",
            ),
        ),
        migrations.AddConstraint(
            model_name="refund",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("method", "b2c"), _negated=True),
                    models.Q(("recipient_phone", ""), _negated=True),
                    _connector="OR",
                ),
                name="refund_b2c_has_recipient",
            ),
        ),
        migrations.RunPython(grant, revoke),
        migrations.RunPython(_reinstall_append_only, migrations.RunPython.noop),
    ]
