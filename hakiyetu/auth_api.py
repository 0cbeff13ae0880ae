"""``POST /api/auth/token/``: exchange username and password for a token."""

from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.throttling import AnonRateThrottle


class AuthTokenThrottle(AnonRateThrottle):
    """Slows password guessing: per client IP, rate ``AUTH_TOKEN_RATE``."""

    scope = "auth_token"


class ObtainTokenView(ObtainAuthToken):
    """Returns ``{"token": "..."}`` for valid credentials, 400 otherwise."""

    throttle_classes = (AuthTokenThrottle,)
