"""The Daraja adapter's configuration: ``DarajaConfig`` and its settings.

``config_from_settings`` builds the ``DarajaConfig`` from Django settings,
at call time (never at import time), naming every missing or invalid
setting; ``DarajaEnvironment`` picks the host. Re-exported by
``payments.daraja.types``, where the adapter's other value objects live.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

PAYBILL = "CustomerPayBillOnline"
BUY_GOODS = "CustomerBuyGoodsOnline"
TRANSACTION_TYPES = frozenset({PAYBILL, BUY_GOODS})


class DarajaEnvironment(enum.StrEnum):
    """Which Daraja to talk to; each has its own host and credentials."""

    SANDBOX = "sandbox"
    PRODUCTION = "production"

    @property
    def base_url(self) -> str:
        """The environment's host, without a trailing slash."""
        return _BASE_URLS[self]


_BASE_URLS = {
    DarajaEnvironment.SANDBOX: "https://sandbox.safaricom.co.ke",
    DarajaEnvironment.PRODUCTION: "https://api.safaricom.co.ke",
}


@dataclass(frozen=True, slots=True, repr=False)
class DarajaConfig:
    """Everything the client needs; see ``config_from_settings``.

    ``base_url`` is the host actually used (``MPESA_BASE_URL`` or the
    environment's). For a till (``CustomerBuyGoodsOnline``)
    ``business_short_code`` is the store number and ``party_b`` the till.
    """

    environment: DarajaEnvironment
    base_url: str
    consumer_key: str
    consumer_secret: str
    business_short_code: str
    passkey: str
    transaction_type: str
    party_b: str
    callback_url: str
    connect_timeout: float
    read_timeout: float
    max_attempts: int = 3
    backoff_base: float = 0.5
    backoff_cap: float = 8.0

    def __post_init__(self) -> None:
        # Accept "sandbox"/"production" as well as the enum.
        object.__setattr__(self, "environment", DarajaEnvironment(self.environment))

    def __repr__(self) -> str:
        # Never the secret or passkey: configs end up in tracebacks and logs.
        return (
            f"DarajaConfig(environment={self.environment.value!r}, "
            f"base_url={self.base_url!r}, consumer_key={_hint(self.consumer_key)}, "
            f"business_short_code={self.business_short_code!r}, "
            f"transaction_type={self.transaction_type!r}, party_b={self.party_b!r})"
        )

    @property
    def is_till(self) -> bool:
        """True for Buy Goods (till) payments."""
        return self.transaction_type == BUY_GOODS

    @property
    def credit_party(self) -> str:
        """``PartyB``: the till for Buy Goods, else the paybill shortcode."""
        return self.party_b if self.is_till else self.business_short_code

    @property
    def timeout(self) -> tuple[float, float]:
        """The ``(connect, read)`` timeout passed to every request."""
        return (self.connect_timeout, self.read_timeout)


def _hint(value: str) -> str:
    return f"'{value[:3]}…'" if value else "''"


# --- Configuration from Django settings ---------------------------------------

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
