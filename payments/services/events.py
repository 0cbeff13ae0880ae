"""Writers of the append-only ``PaymentEvent`` log."""

import base64
import ipaddress
import json
import logging
import math
from collections.abc import Callable, Mapping
from typing import Any

from django.db import router

from core.compiled_sql import SqlValue, insert_instance
from payments.daraja.callbacks import MAX_ID_LENGTH, UNSTORABLE_TEXT, unstorable_text
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
    *, kind: str, payment_id: int | SqlValue | None = None, **fields: Any
) -> PaymentEvent:
    """Append one event. Side effect: one INSERT, compiled once per shape
    (``core.compiled_sql``). The event returned holds what was given; a
    column computed by the statement (``SqlValue``) is read when used."""
    values = {"kind": kind, "payment_id": payment_id, **fields}
    return insert_instance(PaymentEvent, values)


def event_record_note(payment: Payment, reason: str) -> PaymentEvent:
    """A note in ``payment``'s log (no status change)."""
    return event_record(
        kind=PaymentEvent.Kind.NOTE,
        payment_id=payment.pk,
        reason=reason,
        checkout_request_id=payment.checkout_request_id or "",
    )


def event_record_exchange(
    *, payment_id: int | None, exchange: DarajaExchange, **links: int | None
) -> PaymentEvent:
    """Store one request/response with Daraja (already stripped of secrets);
    ``links``: ``refund_id`` or ``status_check_id`` for money going out."""
    return event_record(
        kind=PaymentEvent.Kind.DARAJA_EXCHANGE,
        payment_id=payment_id,
        **links,
        operation=exchange.operation,
        request_body=exchange.request_body,
        response_body=_jsonable(exchange.response_body),
        http_status=exchange.status_code,
        duration_ms=exchange.duration_ms,
        error=exchange.error or "",
        checkout_request_id=_checkout_id_of(exchange),
    )


def exchange_recorder(
    payment_id: int | None, **links: int | None
) -> Callable[[DarajaExchange], None]:
    """An ``on_exchange`` hook for the Daraja client, bound to one payment
    (or, through ``links``, one refund or status check)."""

    def _record(exchange: DarajaExchange) -> None:
        event_record_exchange(payment_id=payment_id, exchange=exchange, **links)

    return _record


def event_record_callback(
    *,
    raw_body: bytes,
    source_ip: str | None,
    headers: Mapping[str, str],
    checkout_request_id: str,
    error: str = "",
) -> PaymentEvent:
    """Store a callback as received, before anything else is done.

    Whatever the body holds, the row is one the database takes: a body that
    is not UTF-8 text or holds NUL is kept as ``base64:`` text (the note in
    ``error`` says so), ``request_body`` is None unless the JSON is storable
    (no NUL, no lone surrogate), and an id or address that cannot be stored
    is left empty. The payment is linked by CheckoutRequestID inside the
    same INSERT (a subquery), so storing costs one statement.
    """
    text, raw_note = _storable_raw(raw_body)
    if unstorable_text(checkout_request_id):
        checkout_request_id = ""
    checkout_request_id = checkout_request_id[:MAX_ID_LENGTH]
    return event_record(
        kind=PaymentEvent.Kind.CALLBACK,
        payment_id=_payment_pk_of(checkout_request_id) if checkout_request_id else None,
        operation="stk_callback",
        raw_body=text,
        request_body=_parse_json_or_none(raw_body),
        source_ip=_ip_or_none(source_ip),
        headers={
            k: _storable_text(str(headers[k])) for k in CALLBACK_HEADERS if k in headers
        },
        checkout_request_id=checkout_request_id,
        error=_storable_text("; ".join(part for part in (error, raw_note) if part)),
    )


# The placeholder compiled into the payment lookup, replaced by each call's.
_CHECKOUT_SLOT = "\x00checkout_request_id"
_payment_pk_lookups: dict[str, str] = {}


def _payment_pk_of(checkout_request_id: str) -> SqlValue:
    """For the INSERT: the pk of the payment with that CheckoutRequestID
    (NULL when none), as a subquery of the same statement. Compiled by the
    ORM once per database: building it per callback cost 0.35 ms of CPU,
    a third of storing the callback."""
    alias = router.db_for_write(PaymentEvent)
    if alias not in _payment_pk_lookups:
        payments = Payment.objects.filter(checkout_request_id=_CHECKOUT_SLOT)
        sql, params = payments.values("pk")[:1].query.get_compiler(alias).as_sql()
        if params != (_CHECKOUT_SLOT,):
            raise RuntimeError(f"unexpected parameters in the lookup: {params!r}")
        _payment_pk_lookups[alias] = sql
    # The SQL is the ORM's own; the id goes in as a parameter.
    return SqlValue(_payment_pk_lookups[alias], (checkout_request_id,))


def event_record_c2b_request(
    *,
    kind: str,
    raw_body: bytes,
    source_ip: str | None,
    headers: Mapping[str, str],
    reason: str = "",
    error: str = "",
) -> PaymentEvent:
    """Store a C2B validation or confirmation request as received, with no
    payment (a Paybill payment has none), before anything else is done.
    Whatever the body holds, the row is one the database takes, as for
    ``event_record_callback``."""
    text, raw_note = _storable_raw(raw_body)
    return event_record(
        kind=kind,
        operation=str(kind),
        raw_body=text,
        request_body=_parse_json_or_none(raw_body),
        source_ip=_ip_or_none(source_ip),
        headers={
            k: _storable_text(str(headers[k])) for k in CALLBACK_HEADERS if k in headers
        },
        reason=_storable_text(reason),
        error=_storable_text("; ".join(part for part in (error, raw_note) if part)),
    )


def event_record_result(
    *,
    kind: str,
    raw_body: bytes,
    source_ip: str | None,
    headers: Mapping[str, str],
    refund_id: int | None = None,
    status_check_id: int | None = None,
    error: str = "",
) -> PaymentEvent:
    """Store a ResultURL body or QueueTimeOutURL notice as received, linked
    to the refund or status check it was matched to (neither when we
    cannot tell yet). Storable whatever it holds, as
    ``event_record_callback``."""
    text, raw_note = _storable_raw(raw_body)
    return event_record(
        kind=kind,
        operation=str(kind),
        refund_id=refund_id,
        status_check_id=status_check_id,
        raw_body=text,
        request_body=_parse_json_or_none(raw_body),
        source_ip=_ip_or_none(source_ip),
        headers={
            k: _storable_text(str(headers[k])) for k in CALLBACK_HEADERS if k in headers
        },
        error=_storable_text("; ".join(part for part in (error, raw_note) if part)),
    )


def _storable_raw(raw_body: bytes) -> tuple[str, str]:
    """The body as text the database takes, and a note if not verbatim."""
    try:
        text = raw_body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" not in text:
        return text, ""
    encoded = base64.b64encode(raw_body).decode()
    return f"base64:{encoded}", "raw body kept as base64: not UTF-8 text or holds NUL"


def _storable_text(text: str) -> str:
    """``text`` with NUL and lone surrogates replaced by U+FFFD."""
    return UNSTORABLE_TEXT.sub("\ufffd", text)


def _ip_or_none(value: str | None) -> str | None:
    """The address, or None when it is not one (a forged X-Forwarded-For)."""
    try:
        ipaddress.ip_address(value or "")
    except ValueError:
        return None
    return value


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


def _finite_float(text: str) -> float:
    # ``1e309`` parses to inf, which no JSON column takes (SQLite's
    # JSON_VALID check, PostgreSQL's jsonb): such a body is kept raw only.
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _parse_json_or_none(raw_body: bytes) -> object:
    """The body as JSON, or None when it cannot be stored as JSON."""
    try:
        parsed = json.loads(
            raw_body, parse_constant=_refuse_constant, parse_float=_finite_float
        )
    except (ValueError, RecursionError):
        return None
    if unstorable_text(parsed):
        return None  # PostgreSQL jsonb refuses NUL and lone surrogates
    return parsed
