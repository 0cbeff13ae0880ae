"""``Finance`` may import M-Pesa statements and see what they found;
``Support`` gets nothing here (the summary names money)."""

from django.db import migrations

PERMISSIONS = {
    ("statementimport", "import_statement"): "Can import M-Pesa statements",
    ("statementimport", "view_statementimport"): "Can view M-Pesa statement import",
    ("statementline", "view_statementline"): "Can view statement line",
    ("statementdiscrepancy", "view_statementdiscrepancy"): (
        "Can view statement discrepancy"
    ),
}
GROUPS = {
    "Finance": (
        "import_statement",
        "view_statementimport",
        "view_statementline",
        "view_statementdiscrepancy",
    ),
}


def grant(apps, schema_editor) -> None:
    content_type_model = apps.get_model("contenttypes", "ContentType")
    permission_model = apps.get_model("auth", "Permission")
    found = {}
    for (model, codename), name in PERMISSIONS.items():
        content_type, _ = content_type_model.objects.get_or_create(
            app_label="statements", model=model
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
                content_type__app_label="statements",
                codename__in=GROUPS[group.name],
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("statements", "0001_initial"),
        ("payments", "0014_refunds"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
