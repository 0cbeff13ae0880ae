"""One client account per e-mail address, decided by a unique row.

Existing profiles get their user's address lower-cased; when two accounts
already share one (made before this rule, e.g. by staff), the oldest keeps
it and the others stay empty, so the migration never fails on old data.
"""

from django.conf import settings
from django.db import migrations, models


def fill_email_keys(apps, schema_editor):
    profile_model = apps.get_model("accounts", "ClientProfile")
    taken: set[str] = set()
    profiles = profile_model.objects.select_related("user").order_by("user_id")
    for profile in profiles.iterator():
        key = (profile.user.email or "").strip().lower()
        if key and key not in taken:
            taken.add(key)
            profile.email_key = key
            profile.save(update_fields=["email_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_encrypted_phone"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="clientprofile",
            name="email_key",
            field=models.CharField(
                blank=True, default="", editable=False, max_length=254
            ),
        ),
        migrations.RunPython(fill_email_keys, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="clientprofile",
            constraint=models.UniqueConstraint(
                condition=models.Q(("email_key", ""), _negated=True),
                fields=("email_key",),
                name="client_profile_one_account_per_email",
            ),
        ),
    ]
