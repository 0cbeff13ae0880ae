"""Who may read /metrics: the bearer of ``METRICS_TOKEN`` or a client from
``METRICS_ALLOWED_IPS``; loopback too while DEBUG is on and neither is
set (``make run``)."""

import hmac
import ipaddress
import logging
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest

from core.client_ip import client_ip

logger = logging.getLogger(__name__)
LOOPBACK = ("127.0.0.0/8", "::1/128")


def metrics_access_allowed(request: HttpRequest) -> bool:
    """True for a matching bearer token or an allowed client address."""
    if _token_matches(request.headers.get("Authorization", "")):
        return True
    allowed = list(settings.METRICS_ALLOWED_IPS)
    if not allowed and not settings.METRICS_TOKEN and settings.DEBUG:
        allowed = list(LOOPBACK)
    if not allowed:
        return False
    ip = client_ip(request, trusted_proxies=settings.NUM_PROXIES)
    return address_in(ip, allowed)


def _token_matches(authorization: str) -> bool:
    expected = settings.METRICS_TOKEN
    scheme, _, candidate = authorization.partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(candidate.strip().encode(), expected.encode())


def address_in(ip: str | None, entries: Iterable[str]) -> bool:
    """True when ``ip`` is inside one of ``entries`` (IPs or CIDRs)."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return False
    for entry in entries:
        try:
            if address in ipaddress.ip_network(entry.strip(), strict=False):
                return True
        except ValueError:
            logger.error("METRICS_ALLOWED_IPS has an invalid entry: %r", entry)
    return False
