"""Staff groups for the payments console.

``Finance`` views payments and their history, re-queries Daraja, resolves
manually and exports CSV. ``Support`` views and re-queries but cannot
resolve or export. The custom permissions live here (not in
``Payment.Meta``) and are created with get_or_create, like the standard
view permissions, which Django only creates after all migrations ran.
Users still need ``is_staff`` to log in to the admin.
"""

from django.db import migrations

CUSTOM_PERMISSIONS = {
    "requery_payment": "Can re-query payments with Daraja",
    "resolve_payment": "Can resolve payments manually",
    "export_payment": "Can export payments as CSV",
}
VIEW_PERMISSIONS = {
    ("payment", "view_payment"): "Can view payment",
    ("paymentevent", "view_paymentevent"): "Can view payment event",
}
GROUPS = {
    "Finance": (
        "view_payment",
        "view_paymentevent",
        "requery_payment",
        "resolve_payment",
        "export_payment",
    ),
    "Support": ("view_payment", "view_paymentevent", "requery_payment"),
}


def _permissions(apps) -> dict:
    content_type_model = apps.get_model("contenttypes", "ContentType")
    permission_model = apps.get_model("auth", "Permission")
    wanted = {
        ("payment", codename): name for codename, name in CUSTOM_PERMISSIONS.items()
    }
    wanted.update(VIEW_PERMISSIONS)
    found = {}
    for (model, codename), name in wanted.items():
        content_type, _ = content_type_model.objects.get_or_create(
            app_label="payments", model=model
        )
        found[codename], _ = permission_model.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
    return found


def create_groups(apps, schema_editor) -> None:
    group_model = apps.get_model("auth", "Group")
    permissions = _permissions(apps)
    for name, codenames in GROUPS.items():
        group, _ = group_model.objects.get_or_create(name=name)
        group.permissions.add(*(permissions[codename] for codename in codenames))


def remove_groups(apps, schema_editor) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()
    apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="payments", codename__in=CUSTOM_PERMISSIONS
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("payments", "0002_paymentevent_append_only"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
