"""The demo logins that ``seed_demo`` creates, shown by the checkout page
when DEBUG is on and refused by the deploy check (``hakiyetu.E002``)."""

DEMO_PASSWORD = "hakiyetu-demo"  # noqa: S105 - local demo only, see seed_demo
DEMO_USERS = (
    ("demo-client", {"is_staff": False, "is_superuser": False}),
    ("demo-staff", {"is_staff": True, "is_superuser": True}),
)
