"""Lock out repeated failed sign-ins (admin, checkout page, API tokens).

Failures are counted in the cache per (client IP, username) and per IP,
from Django's ``user_login_failed`` signal, which every sign-in path here
sends (admin and checkout forms, DRF's token serializer). While a counter
is over its limit, ``LoginLockoutMiddleware`` answers sign-in POSTs with
429 before any password is checked. Counters expire after
``LOGIN_LOCKOUT_SECONDS``; a successful sign-in clears the user's counter.
"""

import hashlib
import json
import logging

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse

from core.client_ip import client_ip
from core.errors import error_body

logger = logging.getLogger(__name__)

LOGIN_PATHS = ("/admin/login/", "/login/", "/api/auth/token/")
# One address may try several accounts, but not endlessly.
PER_IP_FACTOR = 4


def _ip(request: HttpRequest) -> str:
    return client_ip(request, trusted_proxies=settings.NUM_PROXIES) or "unknown"


def _keys(request: HttpRequest, username: str) -> tuple[str, str]:
    ip = _ip(request)
    user_hash = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:16]
    return f"login-fail:{ip}:{user_hash}", f"login-fail:{ip}"


def _increment(key: str) -> int:
    if cache.add(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)
        return 1


def login_blocked(request: HttpRequest, username: str) -> bool:
    """True while this IP (for this username, or at all) is locked out."""
    user_key, ip_key = _keys(request, username)
    limit = settings.LOGIN_FAILURE_LIMIT
    return (cache.get(user_key) or 0) >= limit or (
        cache.get(ip_key) or 0
    ) >= limit * PER_IP_FACTOR


@receiver(user_login_failed)
def _count_failure(sender, credentials: dict, request=None, **kwargs) -> None:
    if request is None:
        return
    user_key, ip_key = _keys(request, str(credentials.get("username", "")))
    failures = _increment(user_key)
    _increment(ip_key)
    if failures >= settings.LOGIN_FAILURE_LIMIT:
        logger.warning(
            "sign-in locked out for %s after %s failures", _ip(request), failures
        )


@receiver(user_logged_in)
def _clear_failures(sender, request=None, user=None, **kwargs) -> None:
    if request is not None and user is not None:
        cache.delete(_keys(request, user.get_username())[0])


def login_failures_forget(request: HttpRequest, username: str) -> None:
    """Clear this IP's failure count for ``username`` (a password reset)."""
    cache.delete(_keys(request, username)[0])


class LoginLockoutMiddleware:
    """Refuse sign-in POSTs from a locked-out IP/username with 429."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path in LOGIN_PATHS:
            username = _posted_username(request)
            if login_blocked(request, username):
                return _locked_out(request)
        return self.get_response(request)


def _posted_username(request: HttpRequest) -> str:
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return ""
        return str(body.get("username", "")) if isinstance(body, dict) else ""
    return request.POST.get("username", "")


def _locked_out(request: HttpRequest) -> HttpResponse:
    seconds = str(settings.LOGIN_LOCKOUT_SECONDS)
    message = "Too many failed sign-ins. Try again later."
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            error_body("locked_out", message), status=429
        )
    else:
        response = HttpResponse(message, status=429, content_type="text/plain")
    response["Retry-After"] = seconds
    return response
