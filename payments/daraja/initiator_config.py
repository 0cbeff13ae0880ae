"""The initiator configuration of Reversal, B2C and Transaction Status.

These APIs act as an API operator ("initiator") of the organisation, with
its password sent as a SecurityCredential (``security.py``), and answer
later by POSTing to ``ResultURL`` or ``QueueTimeOutURL`` (daraja.md 6, 10).
Read from Django settings at call time, never at import time;
``types.py`` re-exports the names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from payments.daraja.exceptions import DarajaConfigurationError

# Daraja's docs say "11" for the reversal's RecieverIdentifierType; several
# integrators found 4 needed (daraja.md section 6), hence the setting.
DEFAULT_RECEIVER_IDENTIFIER_TYPE = "11"

INITIATOR_SETTINGS = (
    "MPESA_INITIATOR_NAME",
    "MPESA_INITIATOR_PASSWORD",
    "MPESA_CERTIFICATE_PATH",
    "MPESA_BUSINESS_SHORT_CODE",
    "MPESA_RESULT_URL",
    "MPESA_QUEUE_TIMEOUT_URL",
)
B2C_SETTINGS = (
    "MPESA_B2C_SHORT_CODE",
    "MPESA_B2C_INITIATOR_NAME",
    "MPESA_B2C_INITIATOR_PASSWORD",
)


@dataclass(frozen=True, slots=True, repr=False)
class InitiatorConfig:
    """Who initiates, with which credential, and where results go.

    ``party_a`` is the organisation's shortcode (Transaction Status
    ``PartyA``, the reversal's ``ReceiverParty``). The B2C fields are empty
    unless B2C is configured (``b2c_configured``): B2C pays out from its own
    shortcode with its own initiator.
    """

    initiator_name: str
    password: str
    certificate_path: str
    result_url: str
    queue_timeout_url: str
    party_a: str
    reversal_receiver_identifier_type: str = DEFAULT_RECEIVER_IDENTIFIER_TYPE
    b2c_short_code: str = ""
    b2c_initiator_name: str = ""
    b2c_password: str = ""

    def __repr__(self) -> str:
        # Never the passwords: configs end up in tracebacks and logs.
        return (
            f"InitiatorConfig(initiator_name={self.initiator_name!r}, "
            f"password='***', certificate_path={self.certificate_path!r}, "
            f"party_a={self.party_a!r}, "
            f"b2c_short_code={self.b2c_short_code!r}, "
            f"b2c_initiator_name={self.b2c_initiator_name!r}, "
            f"b2c_password={'***' if self.b2c_password else ''!r})"
        )

    @property
    def b2c_configured(self) -> bool:
        """True when the B2C shortcode, initiator and password are all set."""
        return bool(
            self.b2c_short_code and self.b2c_initiator_name and self.b2c_password
        )


def initiator_config_from_settings(settings: Any) -> InitiatorConfig:
    """Return the initiator configuration held in ``settings``.

    Raises:
        DarajaConfigurationError: (an ``ImproperlyConfigured``) naming every
            missing setting, or a shortcode that is not digits.
    """
    values = {name: _text(settings, name) for name in INITIATOR_SETTINGS}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise DarajaConfigurationError(
            "initiator", "Daraja initiator settings are missing: " + ", ".join(missing)
        )
    b2c = {name: _text(settings, name) for name in B2C_SETTINGS}
    for name in ("MPESA_BUSINESS_SHORT_CODE", "MPESA_B2C_SHORT_CODE"):
        value = values.get(name) or b2c.get(name) or ""
        if value and not value.isdigit():
            raise DarajaConfigurationError("initiator", f"{name} must be digits")
    return InitiatorConfig(
        initiator_name=values["MPESA_INITIATOR_NAME"],
        password=values["MPESA_INITIATOR_PASSWORD"],
        certificate_path=values["MPESA_CERTIFICATE_PATH"],
        result_url=values["MPESA_RESULT_URL"],
        queue_timeout_url=values["MPESA_QUEUE_TIMEOUT_URL"],
        party_a=values["MPESA_BUSINESS_SHORT_CODE"],
        reversal_receiver_identifier_type=_text(
            settings, "MPESA_REVERSAL_RECEIVER_IDENTIFIER_TYPE"
        )
        or DEFAULT_RECEIVER_IDENTIFIER_TYPE,
        b2c_short_code=b2c["MPESA_B2C_SHORT_CODE"],
        b2c_initiator_name=b2c["MPESA_B2C_INITIATOR_NAME"],
        b2c_password=b2c["MPESA_B2C_INITIATOR_PASSWORD"],
    )


def b2c_configured(settings: Any) -> bool:
    """Whether ``settings`` hold all three B2C settings (partial refunds)."""
    return all(_text(settings, name) for name in B2C_SETTINGS)


def _text(settings: Any, name: str) -> str:
    value = getattr(settings, name, "")
    return "" if value is None else str(value).strip()
