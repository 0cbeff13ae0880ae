"""A strict Content-Security-Policy for the pages that take payments.

The checkout pages run only this site's own files: no inline script or
style, no other origin, no framing, forms post only here. A script injected
into the page (an XSS) cannot run or send anything elsewhere. Set per view,
not site-wide: the Django admin relies on inline scripts.

The API docs (Swagger UI, ReDoc) inject inline styles, so they get a looser
policy that still keeps them offline: images, fonts and requests only from
this site (ReDoc's bundle would otherwise fetch its logo from a CDN).
"""

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse

CHECKOUT_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)


DOCS_POLICY = "; ".join(
    (
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)


def with_policy(policy: str):
    """A view decorator that sends ``policy`` with every answer."""

    def decorate(view: Callable[..., HttpResponse]):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            response = view(request, *args, **kwargs)
            response.headers["Content-Security-Policy"] = policy
            return response

        return wrapped

    return decorate


content_security_policy = with_policy(CHECKOUT_POLICY)
content_security_policy.__doc__ = "Send ``CHECKOUT_POLICY`` with every answer."
