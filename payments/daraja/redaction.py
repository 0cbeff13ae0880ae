"""Strip secrets from request and response bodies before anyone stores them."""

from __future__ import annotations

REDACTED = "[redacted]"
MAX_TEXT_BODY = 2000

# Body keys that carry a credential, compared case-insensitively.
_SECRET_KEYS = frozenset(
    {
        "password",
        "passkey",
        "securitycredential",
        "access_token",
        "consumer_secret",
        "consumersecret",
        "authorization",
    }
)


def redact_body(body: dict | None) -> dict | None:
    """Return a copy of ``body`` with every credential value replaced."""
    if body is None:
        return None
    return {
        key: REDACTED if str(key).lower() in _SECRET_KEYS else _redact_value(value)
        for key, value in body.items()
    }


def _redact_value(value: object) -> object:
    if isinstance(value, dict):
        return redact_body(value)
    if isinstance(value, list):
        return [_redact_value(item) for item in value]
    return value


def redact_text(text: str, *, secrets: tuple[str, ...] = ()) -> str:
    """Return ``text`` cut to a storable size, with known secrets blanked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text[:MAX_TEXT_BODY]
