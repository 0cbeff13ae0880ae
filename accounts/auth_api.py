"""``POST /api/auth/token/``: exchange username and password for a token."""

from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.throttling import AnonRateThrottle

from core.api_errors import error_response


class AuthTokenThrottle(AnonRateThrottle):
    """Slows password guessing: per client IP, rate ``AUTH_TOKEN_RATE``."""

    scope = "auth_token"


@extend_schema_view(
    post=extend_schema(
        request=AuthTokenSerializer,
        responses={
            200: inline_serializer("Token", {"token": serializers.CharField()}),
            400: error_response("Wrong username or password"),
            429: error_response("Too many attempts, or locked out"),
        },
    )
)
class ObtainTokenView(ObtainAuthToken):
    """Returns ``{"token": "..."}`` for valid credentials, 400 otherwise."""

    throttle_classes = (AuthTokenThrottle,)
