"""Staff access to the receipts ledger (issue 13, point 9).

``Finance`` and ``Support`` may view receipts (and their sightings, shown
on the receipt's page); ``Finance`` alone gets the custom permission
``allocate_receipt`` ("Allocate to booking" and "Mark for refund" on
unallocated money). As in 0003, the permissions are created with
get_or_create (Django creates the standard ones only after all
migrations ran). The ledger reads "M-Pesa receipts" in the admin, and
``UnallocatedReceipt`` is a proxy: the admin's
"Unallocated money" entry, with no table of its own.
"""

from django.db import migrations

PERMISSIONS = {
    ("mpesareceipt", "view_mpesareceipt"): "Can view mpesa receipt",
    ("mpesareceiptsighting", "view_mpesareceiptsighting"): (
        "Can view mpesa receipt sighting"
    ),
    ("mpesareceipt", "allocate_receipt"): (
        "Can allocate receipts to bookings and mark them for refund"
    ),
}
GROUPS = {
    "Finance": ("view_mpesareceipt", "view_mpesareceiptsighting", "allocate_receipt"),
    "Support": ("view_mpesareceipt", "view_mpesareceiptsighting"),
}


def _permissions(apps) -> dict:
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
    return found


def grant(apps, schema_editor) -> None:
    group_model = apps.get_model("auth", "Group")
    permissions = _permissions(apps)
    for name, codenames in GROUPS.items():
        group, _ = group_model.objects.get_or_create(name=name)
        group.permissions.add(*(permissions[codename] for codename in codenames))


def revoke(apps, schema_editor) -> None:
    permission_model = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.remove(
            *permission_model.objects.filter(
                content_type__app_label="payments",
                codename__in=GROUPS[group.name],
            )
        )
    permission_model.objects.filter(
        content_type__app_label="payments", codename="allocate_receipt"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("payments", "0010_c2b_events_and_refund_mark"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="mpesareceipt",
            options={
                "ordering": ("-created_at", "-id"),
                "verbose_name": "M-Pesa receipt",
                "verbose_name_plural": "M-Pesa receipts",
            },
        ),
        migrations.CreateModel(
            name="UnallocatedReceipt",
            fields=[],
            options={
                "verbose_name": "unallocated money",
                "verbose_name_plural": "unallocated money",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("payments.mpesareceipt",),
        ),
        migrations.RunPython(grant, revoke),
    ]
