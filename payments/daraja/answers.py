"""Read one HTTP answer from Daraja: the error it stands for, or its result.

Daraja's gateway errors share one envelope, ``{"requestId", "errorCode",
"errorMessage"}`` (daraja.md section 1), whatever the HTTP status;
``raise_for_answer`` maps them to the adapter's exceptions. A successful
answer is read into ``StkPushResult``, ``StkQueryResult`` or an OAuth token.
"""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

from payments.daraja.exceptions import (
    DarajaAuthError,
    DarajaOutcomeUnknown,
    DarajaRejected,
    DarajaUnavailable,
    DarajaValidationError,
    InvalidAccessToken,
)
from payments.daraja.transport import NOT_IDEMPOTENT, HttpAnswer
from payments.daraja.types import (
    AsyncAccepted,
    StkPushResult,
    StkQueryResult,
)

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
    error, message = code or (f"http_{status}", _error_text(answer.body))
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


def _error_text(body: dict | str | None) -> str:
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


# --- Successful answers -------------------------------------------------------

# The query answers this errorCode while the customer has not finished
# (daraja.md section 3); the same code means other things, so the message
# decides.
PROCESSING_CODE = "500.001.1001"
_PROCESSING_TEXT = "being processed"


def code_text(value: object) -> str | None:
    """Normalise a Daraja code (int ``0``, ``" 0"``, ``"SFC_IC0003"``)."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def plain_text(value: object) -> str:
    """``value`` as text; None as ``""``."""
    return "" if value is None else str(value)


_text = plain_text


def require_checkout_id(value: object) -> str:
    """Return a non-empty CheckoutRequestID, stripped.

    Raises:
        DarajaValidationError: (field ``checkout_request_id``) otherwise.
    """
    if not isinstance(value, str) or not value.strip():
        raise DarajaValidationError("checkout_request_id", "Give a CheckoutRequestID.")
    return value.strip()


def token_answer(answer: HttpAnswer) -> tuple[str, int]:
    """Return ``(access_token, expires_in)`` from an OAuth answer.

    ``expires_in`` is often the string ``"3599"``.

    Raises:
        DarajaUnavailable: the answer is not a usable token.
    """
    body = answer.body if isinstance(answer.body, dict) else {}
    token = body.get("access_token")
    try:
        expires_in = int(body.get("expires_in"))
    except (TypeError, ValueError):
        expires_in = None
    if not isinstance(token, str) or not token or expires_in is None:
        raise DarajaUnavailable("Daraja's OAuth answer had no usable token")
    return token, expires_in


def push_result(answer: HttpAnswer) -> StkPushResult:
    """Return the acknowledgement of an accepted STK push.

    Raises:
        DarajaRejected: ``ResponseCode`` other than ``"0"``.
        DarajaOutcomeUnknown: a 2xx answer without a CheckoutRequestID (the
            push may be under way but cannot be followed up).
    """
    body = answer.body if isinstance(answer.body, dict) else None
    if body is None or not code_text(body.get("CheckoutRequestID")):
        raise DarajaOutcomeUnknown(
            "Daraja's STK push answer had no CheckoutRequestID",
            http_status=answer.status_code,
        )
    response_code = code_text(body.get("ResponseCode")) or ""
    if response_code != "0":
        raise DarajaRejected(
            response_code or "unknown",
            _text(body.get("ResponseDescription")),
            http_status=answer.status_code,
            raw=body,
        )
    return StkPushResult(
        merchant_request_id=_text(body.get("MerchantRequestID")),
        checkout_request_id=code_text(body["CheckoutRequestID"]) or "",
        response_code=response_code,
        response_description=_text(body.get("ResponseDescription")),
        customer_message=_text(body.get("CustomerMessage")),
        raw=body,
    )


def processing_result(answer: HttpAnswer) -> StkQueryResult | None:
    """Return a "still processing" result if that is Daraja's answer."""
    code = error_code(answer)
    if code is None or code[0] != PROCESSING_CODE:
        return None
    if _PROCESSING_TEXT not in code[1].lower():
        return None
    return StkQueryResult(
        result_code=None,
        result_desc=code[1],
        is_processing=True,
        merchant_request_id=None,
        checkout_request_id=None,
        raw=answer.body if isinstance(answer.body, dict) else {},
    )


def query_result(answer: HttpAnswer) -> StkQueryResult:
    """Return the STK query answer; no ``ResultCode`` counts as processing.

    Raises:
        DarajaUnavailable: a 2xx answer that is not a JSON object.
    """
    if not isinstance(answer.body, dict):
        raise DarajaUnavailable("Daraja's STK query answer was not JSON")
    body = answer.body
    result_code = code_text(body.get("ResultCode"))
    return StkQueryResult(
        result_code=result_code,
        result_desc=_text(body.get("ResultDesc") or body.get("ResponseDescription")),
        is_processing=result_code is None,
        merchant_request_id=code_text(body.get("MerchantRequestID")),
        checkout_request_id=code_text(body.get("CheckoutRequestID")),
        raw=body,
    )


def accepted_result(operation: str, answer: HttpAnswer) -> AsyncAccepted:
    """Return the acknowledgement of an asynchronous request.

    Raises:
        DarajaRejected: ``ResponseCode`` other than ``"0"``.
        DarajaOutcomeUnknown: (Reversal, B2C) a 2xx without a
            ConversationID: it may be under way and cannot be followed.
        DarajaUnavailable: (Transaction Status) the same; ask again.
    """
    body = answer.body if isinstance(answer.body, dict) else None
    if body is None or not code_text(body.get("ConversationID")):
        message = f"Daraja's {operation} answer had no ConversationID"
        if operation in NOT_IDEMPOTENT:
            raise DarajaOutcomeUnknown(
                message, operation=operation, http_status=answer.status_code
            )
        raise DarajaUnavailable(message, http_status=answer.status_code)
    response_code = code_text(body.get("ResponseCode")) or ""
    if response_code != "0":
        raise DarajaRejected(
            response_code or "unknown",
            _text(body.get("ResponseDescription")),
            http_status=answer.status_code,
            raw=body,
        )
    return AsyncAccepted(
        originator_conversation_id=_text(body.get("OriginatorConversationID")),
        conversation_id=code_text(body["ConversationID"]) or "",
        response_code=response_code,
        response_description=_text(body.get("ResponseDescription")),
        raw=body,
    )
