"""Give the staff groups what they need on bookings.

``Finance`` may view and change bookings (the admin's cancel, completed,
no-show and refund-paid-out actions need ``change_booking``); ``Support``
may view them to answer clients.
"""

from django.db import migrations

GROUP_BOOKING_PERMISSIONS = {
    "Finance": {
        "view_booking": "Can view booking",
        "change_booking": "Can change booking",
    },
    "Support": {"view_booking": "Can view booking"},
}


def grant(apps, schema_editor) -> None:
    content_type_model = apps.get_model("contenttypes", "ContentType")
    permission_model = apps.get_model("auth", "Permission")
    group_model = apps.get_model("auth", "Group")
    content_type, _ = content_type_model.objects.get_or_create(
        app_label="bookings", model="booking"
    )
    for group_name, permissions in GROUP_BOOKING_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=group_name)
        for codename, name in permissions.items():
            permission, _ = permission_model.objects.get_or_create(
                content_type=content_type, codename=codename, defaults={"name": name}
            )
            group.permissions.add(permission)


def revoke(apps, schema_editor) -> None:
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for group_name, permissions in GROUP_BOOKING_PERMISSIONS.items():
        group = group_model.objects.filter(name=group_name).first()
        if group:
            group.permissions.remove(
                *permission_model.objects.filter(
                    content_type__app_label="bookings", codename__in=permissions
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0002_booking_no_overlap_postgres"),
        ("payments", "0003_staff_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
