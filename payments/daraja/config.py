"""Build a ``DarajaConfig`` from Django settings, at call time."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured

from payments.daraja.types import (
    BUY_GOODS,
    TRANSACTION_TYPES,
    DarajaConfig,
    DarajaEnvironment,
)

REQUIRED_SETTINGS = (
    "MPESA_ENVIRONMENT",
    "MPESA_CONSUMER_KEY",
    "MPESA_CONSUMER_SECRET",
    "MPESA_BUSINESS_SHORT_CODE",
    "MPESA_PASSKEY",
    "MPESA_TRANSACTION_TYPE",
)
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 30.0


def config_from_settings(settings: Any) -> DarajaConfig:
    """Return the Daraja configuration held in ``settings``.

    ``MPESA_CALLBACK_URL`` may be empty if every push passes its own
    ``callback_url``; ``MPESA_PARTY_B`` is required for a till.

    Raises:
        ImproperlyConfigured: naming every missing or invalid setting.
    """
    values = {name: _text(settings, name) for name in REQUIRED_SETTINGS}
    missing = [name for name, value in values.items() if not value]
    if values["MPESA_TRANSACTION_TYPE"] == BUY_GOODS and not _text(
        settings, "MPESA_PARTY_B"
    ):
        missing.append("MPESA_PARTY_B")
    if missing:
        raise ImproperlyConfigured("Daraja settings are missing: " + ", ".join(missing))
    environment = _environment(values["MPESA_ENVIRONMENT"])
    _check_values(values, party_b=_text(settings, "MPESA_PARTY_B"))
    return DarajaConfig(
        environment=environment,
        base_url=(_text(settings, "MPESA_BASE_URL") or environment.base_url).rstrip(
            "/"
        ),
        consumer_key=values["MPESA_CONSUMER_KEY"],
        consumer_secret=values["MPESA_CONSUMER_SECRET"],
        business_short_code=values["MPESA_BUSINESS_SHORT_CODE"],
        passkey=values["MPESA_PASSKEY"],
        transaction_type=values["MPESA_TRANSACTION_TYPE"],
        party_b=_text(settings, "MPESA_PARTY_B"),
        callback_url=_text(settings, "MPESA_CALLBACK_URL"),
        connect_timeout=_seconds(
            settings, "MPESA_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT
        ),
        read_timeout=_seconds(settings, "MPESA_READ_TIMEOUT", DEFAULT_READ_TIMEOUT),
    )


def _text(settings: Any, name: str) -> str:
    value = getattr(settings, name, "")
    return "" if value is None else str(value).strip()


def _environment(value: str) -> DarajaEnvironment:
    try:
        return DarajaEnvironment(value.lower())
    except ValueError:
        raise ImproperlyConfigured(
            f"MPESA_ENVIRONMENT must be 'sandbox' or 'production', not {value!r}"
        ) from None


def _check_values(values: dict[str, str], *, party_b: str) -> None:
    if values["MPESA_TRANSACTION_TYPE"] not in TRANSACTION_TYPES:
        raise ImproperlyConfigured(
            "MPESA_TRANSACTION_TYPE must be one of "
            + ", ".join(sorted(TRANSACTION_TYPES))
        )
    if not values["MPESA_BUSINESS_SHORT_CODE"].isdigit():
        raise ImproperlyConfigured("MPESA_BUSINESS_SHORT_CODE must be digits")
    if party_b and not party_b.isdigit():
        raise ImproperlyConfigured("MPESA_PARTY_B must be digits")


def _seconds(settings: Any, name: str, default: float) -> float:
    value = getattr(settings, name, None)
    if value in (None, ""):
        return default
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ImproperlyConfigured(f"{name} must be a number of seconds") from None
    if seconds <= 0:
        raise ImproperlyConfigured(f"{name} must be positive")
    return seconds
