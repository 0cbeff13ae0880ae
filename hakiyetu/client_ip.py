"""The client's IP address, honouring a known number of trusted proxies."""

from django.http import HttpRequest


def client_ip(request: HttpRequest, *, trusted_proxies: int) -> str | None:
    """The address ``trusted_proxies`` hops back in X-Forwarded-For.

    With N proxies in front of the app, each appends the address it saw,
    so the Nth entry from the right is the client; anything further left
    is whatever the client chose to send. With 0, the socket address.
    """
    if trusted_proxies <= 0:
        return request.META.get("REMOTE_ADDR")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    return hops[-trusted_proxies] if len(hops) >= trusted_proxies else None
