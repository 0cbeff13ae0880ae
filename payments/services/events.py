"""Writers of the append-only ``PaymentEvent`` log."""

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.db.models import Subquery

from payments.daraja.types import DarajaExchange
from payments.models import Payment, PaymentEvent

logger = logging.getLogger(__name__)

# Headers worth keeping with a callback; never cookies or authorisation.
CALLBACK_HEADERS = (
    "Content-Type",
    "Content-Length",
    "User-Agent",
    "X-Forwarded-For",
    "X-Real-Ip",
    "X-Request-Id",
)


def event_record(
    *, kind: str, payment_id: int | None = None, **fields: Any
) -> PaymentEvent:
    """Append one event. Side effect: one INSERT."""
    return PaymentEvent.objects.create(kind=kind, payment_id=payment_id, **fields)


def event_record_exchange(
    *, payment_id: int | None, exchange: DarajaExchange
) -> PaymentEvent:
    """Store one request/response with Daraja (already stripped of secrets)."""
    return event_record(
        kind=PaymentEvent.Kind.DARAJA_EXCHANGE,
        payment_id=payment_id,
        operation=exchange.operation,
        request_body=exchange.request_body,
        response_body=_jsonable(exchange.response_body),
        http_status=exchange.status_code,
        duration_ms=exchange.duration_ms,
        error=exchange.error or "",
        checkout_request_id=_checkout_id_of(exchange),
    )


def exchange_recorder(payment_id: int | None) -> Callable[[DarajaExchange], None]:
    """An ``on_exchange`` hook for the Daraja client, bound to one payment."""

    def _record(exchange: DarajaExchange) -> None:
        event_record_exchange(payment_id=payment_id, exchange=exchange)

    return _record


def event_record_callback(
    *,
    raw_body: bytes,
    source_ip: str | None,
    headers: Mapping[str, str],
    checkout_request_id: str,
    error: str = "",
) -> PaymentEvent:
    """Store a callback exactly as received, before anything else is done.

    The payment is linked by CheckoutRequestID inside the same INSERT (a
    subquery), so storing costs one statement; unknown ids leave it empty.
    """
    text = raw_body.decode("utf-8", errors="replace")
    if "\x00" in text:
        # PostgreSQL text cannot hold NUL; keep everything else verbatim.
        text = text.replace("\x00", "\ufffd")
        error = error or "NUL bytes in the body were replaced with U+FFFD."
    checkout_request_id = checkout_request_id[:64]
    payment = Payment.objects.filter(checkout_request_id=checkout_request_id)
    return event_record(
        kind=PaymentEvent.Kind.CALLBACK,
        payment_id=Subquery(payment.values("pk")[:1]) if checkout_request_id else None,
        operation="stk_callback",
        raw_body=text,
        request_body=_parse_json_or_none(text),
        source_ip=source_ip,
        headers={k: headers[k] for k in CALLBACK_HEADERS if k in headers},
        checkout_request_id=checkout_request_id,
        error=error,
    )


def _checkout_id_of(exchange: DarajaExchange) -> str:
    for body in (exchange.response_body, exchange.request_body):
        if isinstance(body, dict) and isinstance(body.get("CheckoutRequestID"), str):
            return body["CheckoutRequestID"][:64]
    return ""


def _jsonable(body: object) -> object:
    if body is None or isinstance(body, dict | list):
        return body
    return {"text": str(body)[:10_000]}


def _refuse_constant(name: str) -> object:
    raise ValueError(f"non-standard JSON constant {name}")


def _parse_json_or_none(text: str) -> object:
    """The body as JSON, or None when it cannot be stored as JSON."""
    try:
        parsed = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return None
    if "\\u0000" in json.dumps(parsed):
        return None  # PostgreSQL jsonb refuses NUL; raw_body keeps it
    return parsed
