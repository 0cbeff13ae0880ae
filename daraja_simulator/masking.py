"""What the control API shows of credentials: nothing, as ``/simulator/config``.

The request log keeps ``Authorization`` (scheme only), ``Password``, tokens
and the callback secret (the callback URL's last path segment) masked.
"""

from typing import Any
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
_SECRET_KEYS = frozenset({"password", "access_token", "securitycredential"})


def mask_headers(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` with the Authorization credentials replaced."""
    return {
        name: _mask_authorization(value) if name.lower() == "authorization" else value
        for name, value in headers.items()
    }


def _mask_authorization(value: str) -> str:
    scheme, _, credentials = value.partition(" ")
    return f"{scheme} {MASK}" if credentials else MASK


def mask_body(body: Any) -> Any:
    """A copy of a JSON body with passwords, tokens and URL secrets masked."""
    if isinstance(body, dict):
        return {key: _mask_item(str(key).lower(), value) for key, value in body.items()}
    if isinstance(body, list):
        return [mask_body(item) for item in body]
    return body


def _mask_item(key: str, value: Any) -> Any:
    if key in _SECRET_KEYS:
        return MASK
    if key.endswith("url") and isinstance(value, str):
        return mask_url(value)
    return mask_body(value)


def mask_url(url: str) -> str:
    """``url`` with its last path segment (the callback secret) masked."""
    parts = urlsplit(url)
    head, slash, last = parts.path.rstrip("/").rpartition("/")
    if not last:
        return url
    return urlunsplit(parts._replace(path=f"{head}{slash}{MASK}", query=""))
