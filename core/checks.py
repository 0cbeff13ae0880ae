"""Deploy checks on the whole project (``manage.py check --deploy``).

- hakiyetu.E001: ``DEBUG`` is on.
- hakiyetu.E002: the demo users of ``seed_demo`` (published password) exist.
- hakiyetu.W001: ``SECURE_PROXY_SSL_HEADER`` is on but ``NUM_PROXIES`` is 0:
  behind the proxy every client shares its address, so the sign-in lockout
  and the throttles would lock everyone out at once.
- hakiyetu.E003: ``FIELD_ENCRYPTION_KEYS`` or ``FIELD_HASH_KEY`` is unset
  (phone numbers and Daraja's bodies would not be readable or searchable).
- hakiyetu.E004: a ``FIELD_ENCRYPTION_KEYS`` entry is not a Fernet key.

The M-Pesa deploy checks (sandbox passkey, simulator URL, callback URL and
allowlist) are in ``payments.checks``.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError

from bookings.demo_accounts import DEMO_USERS
from core.crypto import is_fernet_key


@register(Tags.security, deploy=True)
def check_no_development_leftovers(app_configs, **kwargs) -> list[Error]:
    """Errors for DEBUG and the demo users in a deployment."""
    errors = []
    if settings.DEBUG:
        errors.append(
            Error(
                "DEBUG is on: error pages show code, settings and requests.",
                hint="Set DEBUG=0 (a `make run` .env sets DEBUG=1).",
                id="hakiyetu.E001",
            )
        )
    demo = _demo_users_present()
    if demo:
        errors.append(
            Error(
                f"The demo users of seed_demo exist: {', '.join(demo)}; their "
                "password is published.",
                hint="Delete them (python manage.py shell, or the admin).",
                id="hakiyetu.E002",
            )
        )
    return errors


def _demo_users_present() -> list[str]:
    """The demo usernames in the database; none when it is not migrated."""
    names = [username for username, _flags in DEMO_USERS]
    try:
        return sorted(
            get_user_model()
            .objects.filter(username__in=names)
            .values_list("username", flat=True)
        )
    except DatabaseError:
        return []  # no database or no user table yet: nothing to check


@register(Tags.security, deploy=True)
def check_proxy_count(app_configs, **kwargs) -> list[Warning]:
    """Warn when a TLS proxy is declared but NUM_PROXIES is not."""
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None) and not settings.NUM_PROXIES:
        return [
            Warning(
                "SECURE_PROXY_SSL_HEADER is on but NUM_PROXIES is 0: every "
                "client shares the proxy's address, so one attacker's failed "
                "sign-ins lock everyone out.",
                hint="Set NUM_PROXIES to the number of proxies in front of "
                "gunicorn (README, Production layout).",
                id="hakiyetu.W001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_field_keys(app_configs, **kwargs) -> list[Error]:
    """Errors when the keys of personal data at rest are missing or bad."""
    missing = [
        name
        for name in ("FIELD_ENCRYPTION_KEYS", "FIELD_HASH_KEY")
        if not getattr(settings, name, None)
    ]
    if missing:
        return [
            Error(
                f"{' and '.join(missing)} unset: phone numbers and Daraja's "
                "bodies cannot be encrypted or searched.",
                hint="Generate them as docs/personal-data.md says; keep them "
                "secret and backed up apart from the database.",
                id="hakiyetu.E003",
            )
        ]
    bad = [
        position
        for position, key in enumerate(settings.FIELD_ENCRYPTION_KEYS, start=1)
        if not is_fernet_key(key)
    ]
    if bad:
        return [
            Error(
                "FIELD_ENCRYPTION_KEYS entries "
                f"{', '.join(map(str, bad))} are not Fernet keys.",
                hint="Each is 32 url-safe base64-encoded bytes "
                "(Fernet.generate_key()).",
                id="hakiyetu.E004",
            )
        ]
    return []
