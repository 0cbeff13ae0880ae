"""Checks on who may post an STK callback, a C2B request or a result
(Daraja's requests are unsigned), and the bounded read of their bodies.

``admit_callback`` applies the path's secret and the IP allowlist (404 or
403), ``read_limited_body`` reads at most ``MAX_CALLBACK_BYTES`` (chunked
bodies included) and ``too_large_response`` is the 413 answer; the
callback, C2B and result views call them before any intake.
"""

import hmac
import ipaddress
import logging

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from core.client_ip import client_ip
from core.errors import error_body

logger = logging.getLogger(__name__)

MAX_CALLBACK_BYTES = 64 * 1024


def callback_secret_matches(candidate: str) -> bool:
    """Constant-time comparison with ``MPESA_CALLBACK_SECRET``."""
    return _secret_matches(candidate, settings.MPESA_CALLBACK_SECRET)


def c2b_secret_matches(candidate: str) -> bool:
    """Constant-time comparison with ``MPESA_C2B_SECRET`` (the C2B URLs')."""
    return _secret_matches(candidate, settings.MPESA_C2B_SECRET)


def result_secret_matches(candidate: str) -> bool:
    """Constant-time comparison with ``MPESA_RESULT_SECRET`` (the ResultURL
    and QueueTimeOutURL of Reversal, B2C and Transaction Status)."""
    return _secret_matches(candidate, settings.MPESA_RESULT_SECRET)


def _secret_matches(candidate: str, expected: str) -> bool:
    if not expected:
        return False
    return hmac.compare_digest(candidate.encode(), expected.encode())


def callback_source_ip(request) -> str | None:
    """The caller's IP, ``MPESA_CALLBACK_TRUSTED_PROXIES`` hops back.

    X-Forwarded-For counts only when the peer is one of our proxies
    (``MPESA_CALLBACK_PROXY_IPS``); anyone else is judged by its own address.
    """
    return client_ip(
        request,
        trusted_proxies=settings.MPESA_CALLBACK_TRUSTED_PROXIES,
        proxy_networks=settings.MPESA_CALLBACK_PROXY_IPS,
    )


def callback_ip_allowed(ip: str | None) -> bool:
    """True when no allowlist is set, or ``ip`` is inside one of its networks."""
    allowed = settings.MPESA_CALLBACK_ALLOWED_IPS
    if not allowed:
        return True
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return False
    for entry in allowed:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            logger.error("MPESA_CALLBACK_ALLOWED_IPS has an invalid entry: %r", entry)
    return False


def admit_callback(request, *, secret_ok: bool) -> str | None:
    """The caller's IP once the path's secret and the allowlist admit it;
    raises ``NotFound`` (wrong secret) or ``PermissionDenied``."""
    if not secret_ok:
        logger.warning(
            "callback with a wrong secret from %s", request.META.get("REMOTE_ADDR")
        )
        raise NotFound()
    source_ip = callback_source_ip(request)
    if not callback_ip_allowed(source_ip):
        logger.warning("callback from %s refused: not in the allowlist", source_ip)
        raise PermissionDenied("This address may not post callbacks.")
    return source_ip


def read_limited_body(request) -> bytes | None:
    """The raw body, or None when it is larger than ``MAX_CALLBACK_BYTES``.

    A chunked request has no Content-Length, so Django's stream reads it
    as empty; the WSGI server (gunicorn) has de-chunked it into
    ``wsgi.input``, which is then read directly, bounded the same way.
    """
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > MAX_CALLBACK_BYTES:
        return None
    stream = request._request
    chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    if chunked and not declared:
        stream = request.META["wsgi.input"]
    body = _read_up_to(stream, MAX_CALLBACK_BYTES + 1)
    return None if len(body) > MAX_CALLBACK_BYTES else body


def _read_up_to(stream, limit: int) -> bytes:
    """Read until ``limit`` bytes or the end (a read may return fewer)."""
    parts, size = [], 0
    while size < limit:
        part = stream.read(limit - size)
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def too_large_response() -> Response:
    body = error_body("too_large", "The body is over 64 KiB.")
    return Response(body, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
