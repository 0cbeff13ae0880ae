"""Turn Daraja's error answers into the adapter's exceptions.

Daraja's gateway errors share one envelope, ``{"requestId", "errorCode",
"errorMessage"}`` (daraja.md section 1), whatever the HTTP status.
"""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

from payments.daraja.exceptions import (
    DarajaAuthError,
    DarajaOutcomeUnknown,
    DarajaRejected,
    DarajaUnavailable,
    InvalidAccessToken,
)
from payments.daraja.transport import NOT_IDEMPOTENT, HttpAnswer

# 404.001.03 on M-Pesa Express, 400.003.01 on other APIs (daraja.md 1, 8.2).
INVALID_TOKEN_CODES = frozenset({"404.001.03", "400.003.01"})
# Spike arrest, quota and internal error: nothing was processed, back off.
THROTTLE_CODES = frozenset({"500.003.02", "500.003.03", "500.003.1001"})
# Gateway answers that say "not now" without processing the request.
UNAVAILABLE_STATUSES = frozenset({429, 503})


def error_code(answer: HttpAnswer) -> tuple[str, str] | None:
    """Return ``(errorCode, errorMessage)`` if the body is Daraja's error."""
    body = answer.body
    if not isinstance(body, dict) or body.get("errorCode") in (None, ""):
        return None
    return str(body["errorCode"]).strip(), str(body.get("errorMessage") or "")


def is_invalid_token(answer: HttpAnswer) -> bool:
    """True when Daraja refused the bearer token (refresh and retry once)."""
    code = error_code(answer)
    return answer.status_code == 401 or (
        code is not None and code[0] in INVALID_TOKEN_CODES
    )


def raise_for_answer(operation: str, answer: HttpAnswer) -> None:
    """Raise the exception an error answer stands for; return on success.

    Raises:
        InvalidAccessToken: 401, 404.001.03 or 400.003.01.
        DarajaUnavailable: 429, 503, or 500.003.02 / .03 / .1001.
        DarajaOutcomeUnknown: an STK push answered by another 5xx without
            an ``errorCode`` (a gateway may have forwarded it).
        DarajaAuthError: any other OAuth error.
        DarajaRejected: any other ``errorCode`` or 4xx.
    """
    code = error_code(answer)
    status = answer.status_code
    if code is None and 200 <= status < 300:
        return
    raw = answer.body if isinstance(answer.body, dict) else None
    error, message = code or (f"http_{status}", _text(answer.body))
    if operation != "oauth" and is_invalid_token(answer):
        raise InvalidAccessToken(error, message, http_status=status, raw=raw)
    if status in UNAVAILABLE_STATUSES or error in THROTTLE_CODES:
        raise DarajaUnavailable(
            f"Daraja is busy: {error} {message}".strip(),
            retry_after=retry_after_seconds(answer),
            error_code=error,
            http_status=status,
        )
    if code is None and status >= 500:
        _raise_server_error(operation, status)
    if operation == "oauth":
        raise DarajaAuthError(error, message, http_status=status, raw=raw)
    raise DarajaRejected(error, message, http_status=status, raw=raw)


def _raise_server_error(operation: str, status: int) -> None:
    # A 500/502/504 from a proxy or gateway may come after Daraja received
    # the push; only an errorCode envelope proves it was refused.
    if operation in NOT_IDEMPOTENT:
        raise DarajaOutcomeUnknown(
            f"Daraja answered HTTP {status} without an error code",
            operation=operation,
            http_status=status,
        )
    raise DarajaUnavailable(f"Daraja answered HTTP {status}", http_status=status)


def _text(body: dict | str | None) -> str:
    return body[:200] if isinstance(body, str) else ""


def retry_after_seconds(answer: HttpAnswer) -> float | None:
    """Return ``Retry-After`` in seconds (delta or HTTP date), if sent."""
    value = (answer.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
