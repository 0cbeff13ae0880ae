"""System checks on the M-Pesa settings (``manage.py check [--deploy]``).

Without ``--deploy`` a bad callback URL is a warning (local work goes on);
with it, every setting that loses callbacks or lets a forged one through is
an error, each with a stable id:

- payments.E001: production with no callback IP allowlist and no
  verification by STK query (anyone may post a success).
- payments.E002: ``MPESA_CALLBACK_SECRET`` shorter than 32 characters.
- payments.E003: ``MPESA_CALLBACK_URL`` unusable (callbacks would be lost).
- payments.E004: production with an ``MPESA_BASE_URL`` that is not https.
- payments.E005: ``MPESA_PASSKEY`` is the public sandbox passkey.
- payments.E006: ``MPESA_BASE_URL`` points at the local simulator.
- payments.E007: ``MPESA_CALLBACK_TRUSTED_PROXIES`` without
  ``MPESA_CALLBACK_PROXY_IPS`` (X-Forwarded-For would be ignored).
- payments.E008: ``MPESA_C2B_SECRET`` shorter than 32 characters (when it
  is not the callback secret, which E002 judges).
- payments.E009: a C2B URL is set and the two are not usable
  (``c2b_url_problems``: Paybill confirmations would be lost).
- payments.E010: refunds are configured (``MPESA_INITIATOR_NAME``) and
  ``MPESA_RESULT_SECRET`` is the callback secret or shorter than 32
  characters: the callback secret travels in every STK push, and a result
  posted with it moves a refund.
- payments.W003: production verifying callbacks by query with no
  allowlist: C2B confirmations are not verified, so anyone with the C2B
  URL secret can post one (money recorded, a booking paid).
"""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from hakiyetu.localenv import SANDBOX_PASSKEY
from payments.callback_url import callback_url_problems
from payments.services.c2b_registration import c2b_url_problems

MIN_CALLBACK_SECRET_LENGTH = 32
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})  # noqa: S104


def _url_problems() -> list[str]:
    return callback_url_problems(
        url=settings.MPESA_CALLBACK_URL,
        secret=settings.MPESA_CALLBACK_SECRET,
        environment=settings.MPESA_ENVIRONMENT,
    )


def _production() -> bool:
    return str(settings.MPESA_ENVIRONMENT).lower() == "production"


def _allows_anyone(allowed: list[str]) -> bool:
    """No allowlist, or one with a /0 network (0.0.0.0/0, ::/0) in it."""
    networks = []
    for entry in allowed:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            continue  # the callback view logs invalid entries
    return not allowed or any(network.prefixlen == 0 for network in networks)


@register()
def check_callback_url(app_configs, **kwargs) -> list[Warning]:
    """Warn about a callback URL Daraja would refuse or we would 404."""
    if not settings.MPESA_CALLBACK_URL:
        return [
            Warning(
                "MPESA_CALLBACK_URL is not set; STK pushes cannot be sent.",
                id="payments.W001",
            )
        ]
    return [Warning(f"{problem}.", id="payments.W002") for problem in _url_problems()]


@register(Tags.security, deploy=True)
def check_callback_security(app_configs, **kwargs) -> list[Error]:
    """Errors for settings that lose callbacks or accept forged ones."""
    errors = []
    if (
        _production()
        and _allows_anyone(settings.MPESA_CALLBACK_ALLOWED_IPS)
        and not settings.MPESA_VERIFY_CALLBACKS
    ):
        errors.append(
            Error(
                "Production accepts callbacks from any address, unverified.",
                hint="Set MPESA_CALLBACK_ALLOWED_IPS (Safaricom's list is the "
                "default) or MPESA_VERIFY_CALLBACKS=1.",
                id="payments.E001",
            )
        )
    if len(settings.MPESA_CALLBACK_SECRET) < MIN_CALLBACK_SECRET_LENGTH:
        errors.append(
            Error(
                f"MPESA_CALLBACK_SECRET is shorter than "
                f"{MIN_CALLBACK_SECRET_LENGTH} characters.",
                hint='Generate one: python -c "import secrets; '
                'print(secrets.token_urlsafe(32))"',
                id="payments.E002",
            )
        )
    if (
        settings.MPESA_CALLBACK_TRUSTED_PROXIES
        and not settings.MPESA_CALLBACK_PROXY_IPS
    ):
        errors.append(
            Error(
                "MPESA_CALLBACK_TRUSTED_PROXIES is set but MPESA_CALLBACK_PROXY_IPS "
                "is empty: X-Forwarded-For is ignored and callbacks are judged "
                "by the proxy's own address.",
                hint="Set MPESA_CALLBACK_PROXY_IPS to your proxies' CIDRs.",
                id="payments.E007",
            )
        )
    errors.extend(_c2b_errors())
    errors.extend(_result_secret_errors())
    errors.extend(
        Error(
            f"{problem}: Daraja's callbacks would be lost.",
            hint="Use https://<host>/api/payment/callback/<MPESA_CALLBACK_SECRET>.",
            id="payments.E003",
        )
        for problem in _url_problems()
    )
    return errors


def _c2b_errors() -> list[Error]:
    """E008 and E009: the C2B secret and URLs (never their values)."""
    errors = []
    secret = settings.MPESA_C2B_SECRET
    if (
        secret != settings.MPESA_CALLBACK_SECRET
        and len(secret) < MIN_CALLBACK_SECRET_LENGTH
    ):
        errors.append(
            Error(
                f"MPESA_C2B_SECRET is shorter than "
                f"{MIN_CALLBACK_SECRET_LENGTH} characters.",
                hint='Generate one: python -c "import secrets; '
                'print(secrets.token_urlsafe(32))"',
                id="payments.E008",
            )
        )
    if settings.MPESA_C2B_CONFIRMATION_URL or settings.MPESA_C2B_VALIDATION_URL:
        errors.extend(
            Error(
                f"{problem}: Paybill confirmations would be lost.",
                hint="Use https://<host>/api/payment/c2b/confirmation/"
                "<MPESA_C2B_SECRET> and .../c2b/validation/<MPESA_C2B_SECRET>.",
                id="payments.E009",
            )
            for problem in c2b_url_problems()
        )
    return errors


def _result_secret_errors() -> list[Error]:
    """E010: results move refunds; their secret must be their own."""
    if not getattr(settings, "MPESA_INITIATOR_NAME", ""):
        return []
    secret = getattr(settings, "MPESA_RESULT_SECRET", "")
    if (
        secret
        and secret != settings.MPESA_CALLBACK_SECRET
        and (len(secret) >= MIN_CALLBACK_SECRET_LENGTH)
    ):
        return []
    return [
        Error(
            "MPESA_RESULT_SECRET must be set, differ from MPESA_CALLBACK_SECRET "
            f"and have at least {MIN_CALLBACK_SECRET_LENGTH} characters when "
            "refunds are configured.",
            hint='Generate one: python -c "import secrets; '
            'print(secrets.token_urlsafe(32))"',
            id="payments.E010",
        )
    ]


@register(Tags.security, deploy=True)
def check_c2b_unverified(app_configs, **kwargs) -> list[Warning]:
    """W003: verification by query guards STK callbacks only."""
    if not (
        _production()
        and settings.MPESA_VERIFY_CALLBACKS
        and _allows_anyone(settings.MPESA_CALLBACK_ALLOWED_IPS)
    ):
        return []
    return [
        Warning(
            "Production accepts C2B confirmations from any address and does "
            "not verify them (MPESA_VERIFY_CALLBACKS checks STK callbacks "
            "only): anyone who learns MPESA_C2B_SECRET can post one.",
            hint="Keep MPESA_CALLBACK_ALLOWED_IPS (Safaricom's list is the "
            "default) and reconcile Paybill receipts against the statement.",
            id="payments.W003",
        )
    ]


@register(Tags.security, deploy=True)
def check_daraja_endpoint(app_configs, **kwargs) -> list[Error]:
    """Errors for a Daraja host or passkey that is not the real one."""
    errors = []
    base_url = settings.MPESA_BASE_URL
    parts = urlsplit(base_url)
    if _production() and base_url and parts.scheme != "https":
        errors.append(
            Error(
                "MPESA_BASE_URL is not https while MPESA_ENVIRONMENT=production.",
                hint="Unset MPESA_BASE_URL to use https://api.safaricom.co.ke.",
                id="payments.E004",
            )
        )
    if settings.MPESA_PASSKEY == SANDBOX_PASSKEY:
        errors.append(
            Error(
                "MPESA_PASSKEY is the public sandbox passkey.",
                hint="Set the passkey Safaricom issued for your short code.",
                id="payments.E005",
            )
        )
    if base_url and (parts.hostname or "") in LOCAL_HOSTS:
        errors.append(
            Error(
                "MPESA_BASE_URL points at the local Daraja simulator.",
                hint="Unset MPESA_BASE_URL (a `make run` .env sets it).",
                id="payments.E006",
            )
        )
    return errors
