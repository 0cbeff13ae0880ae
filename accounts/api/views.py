"""Client accounts for the SPA: sign-up, profile, sign-out, password reset.

``POST /api/auth/token/`` (``accounts.auth_api``) stays the sign-in.
"""

from django.conf import settings
from django.contrib.auth import logout
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from accounts import services
from accounts.api.serializers import (
    InputPasswordResetConfirmSerializer,
    InputPasswordResetSerializer,
    InputProfileSerializer,
    InputRegisterSerializer,
    OutputRegisterSerializer,
    OutputUserSerializer,
)
from accounts.login_guard import login_failures_forget
from core.api_errors import error_response

INVALID = error_response("Invalid input; `fields` names each field's problem.")
THROTTLED = error_response("Too many requests from this address; see Retry-After.")
UNAUTHENTICATED = error_response("No valid token (or signed out).")
RESET_ACCEPTED = inline_serializer(
    "PasswordResetAccepted", {"detail": serializers.CharField()}
)
RESET_MESSAGE = "If an account has that e-mail address, a reset link is on its way."


class ClientIPThrottle(SimpleRateThrottle):
    """Per client IP (``NUM_PROXIES`` aware), signed in or not."""

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {
            "scope": self.scope,
            "ident": self.get_ident(request),
        }


class RegisterThrottle(ClientIPThrottle):
    """``AUTH_REGISTER_RATE`` sign-ups per client IP."""

    scope = "auth_register"


class PasswordResetThrottle(ClientIPThrottle):
    """``AUTH_PASSWORD_RESET_RATE`` reset requests per client IP."""

    scope = "auth_password_reset"


class RegisterView(APIView):
    """Sign up as a client; answers the new token, as sign-in would."""

    permission_classes = (AllowAny,)
    authentication_classes = ()
    throttle_classes = (RegisterThrottle,)

    @extend_schema(
        request=InputRegisterSerializer,
        responses={201: OutputRegisterSerializer, 400: INVALID, 429: THROTTLED},
    )
    def post(self, request: Request) -> Response:
        data = InputRegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user, token = services.account_register(**data.validated_data)
        profile = services.profile_get(user=user)
        body = OutputRegisterSerializer({"token": token.key, "user": profile}).data
        return Response(body, status=status.HTTP_201_CREATED)


class LogoutView(APIView):
    """Revoke the token in use (a session is signed out instead)."""

    @extend_schema(
        request=None,
        responses={
            204: OpenApiResponse(description="Signed out."),
            401: UNAUTHENTICATED,
        },
    )
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, Token):
            services.token_revoke(token=request.auth)
        else:
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """The signed-in user's profile (clients and staff alike)."""

    @extend_schema(responses={200: OutputUserSerializer, 401: UNAUTHENTICATED})
    def get(self, request: Request) -> Response:
        profile = services.profile_get(user=request.user)
        return Response(OutputUserSerializer(profile).data)

    @extend_schema(
        request=InputProfileSerializer,
        responses={200: OutputUserSerializer, 400: INVALID, 401: UNAUTHENTICATED},
    )
    def patch(self, request: Request) -> Response:
        context = {"user": request.user}
        data = InputProfileSerializer(data=request.data, context=context)
        data.is_valid(raise_exception=True)
        profile = services.profile_update(user=request.user, **data.validated_data)
        return Response(OutputUserSerializer(profile).data)


class PasswordResetView(APIView):
    """E-mail a reset link; the same 202 whether the address exists or not."""

    permission_classes = (AllowAny,)
    authentication_classes = ()
    throttle_classes = (PasswordResetThrottle,)

    @extend_schema(
        request=InputPasswordResetSerializer,
        responses={202: RESET_ACCEPTED, 400: INVALID, 429: THROTTLED},
    )
    def post(self, request: Request) -> Response:
        data = InputPasswordResetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        base_url = settings.PASSWORD_RESET_URL or request.build_absolute_uri(
            reverse("pages:checkout")
        )
        services.password_reset_request(
            email=data.validated_data["email"], base_url=base_url
        )
        return Response({"detail": RESET_MESSAGE}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(APIView):
    """Set a new password from a reset link; revokes every token."""

    permission_classes = (AllowAny,)
    authentication_classes = ()
    throttle_classes = (PasswordResetThrottle,)

    @extend_schema(
        request=InputPasswordResetConfirmSerializer,
        responses={
            204: OpenApiResponse(description="Password set; sign in again."),
            400: error_response("Wrong or expired link (`token`), or weak password."),
            429: THROTTLED,
        },
    )
    def post(self, request: Request) -> Response:
        data = InputPasswordResetConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = data.validated_data["user"]
        services.password_reset_confirm(
            user=user, new_password=data.validated_data["new_password"]
        )
        login_failures_forget(request, user.get_username())
        return Response(status=status.HTTP_204_NO_CONTENT)
