"""Secrets stripped from a Daraja exchange before anyone stores it.

Credential values in request and response bodies (password, passkey,
security credential, access token, consumer secret) are replaced, the
secret last path segment and query of every URL we hand Daraja are
blanked, and free text is cut to a storable size with known secrets
removed. Used by ``payments.daraja.transport`` for each recorded exchange.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

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
    """Return a copy of ``body`` with every credential value replaced.

    URLs we hand Daraja (``CallBackURL``, ``ResultURL``, ``QueueTimeOutURL``,
    ``ValidationURL``, ``ConfirmationURL``: any key ending in ``URL``) end in
    the callback secret: that segment and any query string are replaced.
    """
    if body is None:
        return None
    return {key: _redact_item(str(key).lower(), value) for key, value in body.items()}


def _redact_item(key: str, value: object) -> object:
    if key in _SECRET_KEYS:
        return REDACTED
    if key.endswith("url") and isinstance(value, str):
        return redact_url(value)
    return _redact_value(value)


def redact_url(url: str) -> str:
    """``url`` with its last path segment (the secret) and query replaced."""
    parts = urlsplit(url)
    head, slash, last = parts.path.rstrip("/").rpartition("/")
    if not last:
        return urlunsplit(parts._replace(query=REDACTED if parts.query else ""))
    trailing = "/" if parts.path.endswith("/") else ""
    path = f"{head}{slash}{REDACTED}{trailing}"
    query = REDACTED if parts.query else ""
    return urlunsplit(parts._replace(path=path, query=query, fragment=""))


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
