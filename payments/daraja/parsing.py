"""Read Daraja's successful answers into the adapter's result objects."""

from __future__ import annotations

from payments.daraja.answers import error_code
from payments.daraja.exceptions import (
    DarajaOutcomeUnknown,
    DarajaRejected,
    DarajaUnavailable,
    DarajaValidationError,
)
from payments.daraja.transport import HttpAnswer
from payments.daraja.types import StkPushResult, StkQueryResult

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


def _text(value: object) -> str:
    return "" if value is None else str(value)


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
