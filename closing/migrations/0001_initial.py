"""The daily close, and ``Finance``'s right to see and close days
(``view_dailyclose``, ``close_day``); other groups get nothing here."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

PERMISSIONS = {
    "view_dailyclose": "Can view daily close",
    "close_day": "Can close a day's books",
}
GROUPS = {"Finance": ("view_dailyclose", "close_day")}


def grant(apps, schema_editor) -> None:
    content_type, _ = apps.get_model(
        "contenttypes", "ContentType"
    ).objects.get_or_create(app_label="closing", model="dailyclose")
    permission_model = apps.get_model("auth", "Permission")
    found = {
        codename: permission_model.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )[0]
        for codename, name in PERMISSIONS.items()
    }
    group_model = apps.get_model("auth", "Group")
    for name, codenames in GROUPS.items():
        group, _ = group_model.objects.get_or_create(name=name)
        group.permissions.add(*(found[codename] for codename in codenames))


def revoke(apps, schema_editor) -> None:
    permission_model = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.remove(
            *permission_model.objects.filter(
                content_type__app_label="closing", codename__in=GROUPS[group.name]
            )
        )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("payments", "0003_staff_groups"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.CreateModel(
            name="DailyClose",
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
                    "day",
                    models.DateField(help_text="The Nairobi day closed.", unique=True),
                ),
                ("closed_at", models.DateTimeField()),
                (
                    "snapshot",
                    models.JSONField(help_text="The day's figures when it was closed."),
                ),
                (
                    "closed_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "daily close",
                "verbose_name_plural": "daily closes",
                "ordering": ("-day",),
                "permissions": [("close_day", "Can close a day's books")],
            },
        ),
        migrations.RunPython(grant, revoke),
    ]
