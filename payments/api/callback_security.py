"""Checks on who may post an STK callback or a C2B request (Daraja's
requests are unsigned)."""

import hmac
import ipaddress
import logging

from django.conf import settings

from core.client_ip import client_ip

logger = logging.getLogger(__name__)


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
