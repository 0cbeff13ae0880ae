"""One HTTP exchange with Daraja: send, time, record, map transport errors.

Secrets are stripped from request and response bodies
(``payments.daraja.redaction``) before the exchange is handed to
``on_exchange`` (and so before anyone stores it).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from payments.daraja import observation
from payments.daraja.exceptions import (
    DarajaError,
    DarajaOutcomeUnknown,
    DarajaUnavailable,
)
from payments.daraja.redaction import REDACTED, redact_body, redact_text
from payments.daraja.types import DarajaExchange

logger = logging.getLogger(__name__)

ExchangeHook = Callable[[DarajaExchange], None]
# Calls that prompt a customer or move money: never retried, and a request
# that may have left without an answer is an unknown outcome.
NOT_IDEMPOTENT = frozenset({"stk_push", "reversal", "b2c_payment"})

_session: requests.Session | None = None
_session_lock = threading.Lock()


def _forget_session_after_fork() -> None:
    """A forked child starts without its parent's session: two processes
    writing to one kept-alive socket read each other's answers (or none)."""
    global _session, _session_lock
    _session = None
    _session_lock = threading.Lock()
    _proxies.clear()


os.register_at_fork(after_in_child=_forget_session_after_fork)


def shared_session() -> requests.Session:
    """Return the process-wide pooled session, created on first use.

    Created lazily, and forgotten in a forked child (``register_at_fork``),
    so that no child (Celery prefork, gunicorn, ``query_pending
    --processes``) shares a socket its parent opened before the fork.
    """
    global _session
    with _session_lock:
        if _session is None:
            session = requests.Session()
            # The environment is read once here, not on every request
            # (requests walks os.environ per call: 12 % of an STK query's
            # CPU): the CA bundle now, proxies per host in ``_proxies_for``;
            # ~/.netrc is never used (every Daraja call names its auth).
            session.trust_env = False
            session.verify = (
                os.environ.get("REQUESTS_CA_BUNDLE")
                or os.environ.get("CURL_CA_BUNDLE")
                or True
            )
            # No urllib3 retries: a resent POST could prompt a customer twice.
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            _session = session
        return _session


_proxies: dict[tuple[str, str], dict[str, str]] = {}


def _proxies_for(url: str) -> dict[str, str]:
    """The environment's proxies for ``url``'s scheme and host (HTTPS_PROXY,
    NO_PROXY, ...), as requests would find them, read once per host."""
    parts = urlsplit(url)
    key = (parts.scheme, parts.netloc)
    if key not in _proxies:
        _proxies[key] = requests.utils.get_environ_proxies(url)
    return _proxies[key]


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """A response from Daraja: status, decoded body and headers."""

    status_code: int
    body: dict | str | None
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """What to send. ``secrets`` are blanked from any recorded text."""

    operation: str
    method: str
    url: str
    timeout: tuple[float, float]
    json: dict | None = None
    auth: tuple[str, str] | None = None
    headers: Mapping[str, str] | None = None
    secrets: tuple[str, ...] = ()


def send(
    session: requests.Session, request: HttpRequest, on_exchange: ExchangeHook | None
) -> HttpAnswer:
    """Send ``request`` and report the exchange to ``on_exchange``.

    Raises:
        DarajaUnavailable: the request could not be delivered, or (for
            idempotent operations) no answer came back.
        DarajaOutcomeUnknown: an STK push was sent but no answer came back.
    """
    started = time.perf_counter()
    try:
        response = session.request(
            request.method,
            request.url,
            json=request.json,
            auth=request.auth,
            headers=request.headers,
            timeout=request.timeout,
            proxies=_proxies_for(request.url),
            # A redirected POST would be resent elsewhere; Daraja never
            # redirects, so a 3xx is reported as the answer it is.
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        seconds = time.perf_counter() - started
        error = (
            f"{type(exc).__name__}: {redact_text(str(exc), secrets=request.secrets)}"
        )
        _record(request, on_exchange, started, status=None, body=None, error=error)
        _observe(request, seconds, _failure_outcome(exc))
        raise _transport_error(request.operation, exc) from exc
    seconds = time.perf_counter() - started
    body = _decode(response, request)
    _record(request, on_exchange, started, status=response.status_code, body=body)
    ok = response.status_code < 400
    _observe(request, seconds, observation.OK if ok else observation.HTTP_ERROR)
    return HttpAnswer(response.status_code, body, response.headers)


def _observe(request: HttpRequest, seconds: float, outcome: str) -> None:
    # Timed before the exchange is stored: the metric is Daraja's time.
    observation.report_request(api=request.operation, outcome=outcome, seconds=seconds)


def _failure_outcome(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return observation.TIMEOUT
    return observation.CONNECTION_ERROR


def _decode(response: requests.Response, request: HttpRequest) -> dict | str | None:
    if not response.content:
        return None
    try:
        body: Any = response.json()
    except ValueError:
        return redact_text(response.text, secrets=request.secrets)
    if isinstance(body, dict):
        return body
    return redact_text(response.text, secrets=request.secrets)


def _record(
    request: HttpRequest,
    on_exchange: ExchangeHook | None,
    started: float,
    *,
    status: int | None,
    body: dict | str | None,
    error: str | None = None,
) -> None:
    duration_ms = (time.perf_counter() - started) * 1000
    logger.debug(
        "Daraja %s %s answered %s in %.0f ms",
        request.operation,
        request.method,
        status,
        duration_ms,
    )
    if on_exchange is None:
        return
    exchange = DarajaExchange(
        operation=request.operation,
        method=request.method,
        url=request.url,
        request_body=redact_body(request.json),
        status_code=status,
        response_body=_redact_response(body),
        duration_ms=round(duration_ms, 3),
        error=error,
    )
    notify(on_exchange, exchange)


def _redact_response(body: dict | str | None) -> dict | str | None:
    if isinstance(body, dict):
        return redact_body(body)
    if isinstance(body, str) and "access_token" in body:
        return REDACTED
    return body


def notify(on_exchange: ExchangeHook, exchange: DarajaExchange) -> None:
    """Call the caller's hook; its failure must never break a payment."""
    try:
        on_exchange(exchange)
    except Exception:  # the hook is foreign code: contain anything it raises
        logger.exception("Daraja on_exchange hook failed for %s", exchange.operation)


def _transport_error(operation: str, exc: requests.RequestException) -> DarajaError:
    name = type(exc).__name__
    if _never_sent(exc):
        return DarajaUnavailable(f"Could not send the request to Daraja ({name})")
    if operation in NOT_IDEMPOTENT:
        return DarajaOutcomeUnknown(
            f"No answer from Daraja after sending ({name})", operation=operation
        )
    return DarajaUnavailable(f"No answer from Daraja ({name})")


# Failures that happen before the request can leave: connecting, the TLS
# handshake, or a request that requests refuses to build (set-up problems).
_BEFORE_SENDING = (
    requests.ConnectTimeout,
    requests.exceptions.SSLError,
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidHeader,
    requests.exceptions.URLRequired,
)


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the failure happened before any byte of the request left.

    A connect timeout, a refused connection, a DNS failure, a TLS handshake
    failure or an invalid URL cannot have delivered the request. A read
    timeout, a connection dropped later (``Connection aborted``) or a
    truncated answer may have: for a push that is an unknown outcome.
    """
    if isinstance(exc, _BEFORE_SENDING):
        return True
    if not isinstance(exc, requests.ConnectionError):
        return False
    cause = exc.args[0] if exc.args else None
    if isinstance(cause, MaxRetryError):
        cause = cause.reason
    return isinstance(cause, NewConnectionError | ConnectTimeoutError)
