"""The system user: the requester of automatic refunds.

A real, active account (Django grants no permission to inactive users)
with no usable password and no staff access: it can request refunds and
nothing else, so a person must always approve what it asks for.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission


def refund_system_user():
    """Get or create the system user (``REFUND_SYSTEM_USERNAME``)."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=settings.REFUND_SYSTEM_USERNAME,
        defaults={"is_active": True, "is_staff": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        user.user_permissions.add(
            Permission.objects.get(
                content_type__app_label="payments", codename="request_refund"
            )
        )
        user = user_model.objects.get(pk=user.pk)  # no stale permission cache
    return user


def is_refund_system_user(user) -> bool:
    return user is not None and user.username == settings.REFUND_SYSTEM_USERNAME
