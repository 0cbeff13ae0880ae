"""The API's error envelope, for the OpenAPI schema, URL misses and
database outages."""

import sys

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from core.errors import error_body

ERROR_BODY = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorDetail",
            fields={
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(
                    child=serializers.ListField(child=serializers.CharField()),
                    required=False,
                ),
            },
        )
    },
)


def error_response(description: str) -> OpenApiResponse:
    """An OpenAPI response documented with the one error shape."""
    return OpenApiResponse(response=ERROR_BODY, description=description)


NOT_FOUND = error_response("Not found (or not yours).")
INVALID_PAGE = error_response("Not found, or an invalid page number.")


class ApiNotFoundMiddleware:
    """A URL under /api/ that matches no route answers the API's JSON 404,
    not Django's HTML page (e.g. /api/bookings/x/ where ids are digits)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 404
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            body = error_body("not_found", "Not found.")
            return JsonResponse(body, status=404)
        return response


# A lost or refused connection: the database is down, not the request bad.
DATABASE_DOWN_ERRORS = (OperationalError, InterfaceError)
DATABASE_DOWN_RETRY_AFTER = "30"


def database_down_body() -> dict:
    """The API's answer body while the database cannot be reached."""
    message = "The service is briefly unavailable; please try again shortly."
    return error_body("service_unavailable", message)


@receiver(got_request_exception)
def _note_database_down(sender, request=None, **kwargs) -> None:
    # Django turns an exception raised in a middleware into its 500 page
    # right there, so the middleware below never sees the exception; this
    # signal is sent while it is being handled.
    if request is not None and isinstance(sys.exc_info()[1], DATABASE_DOWN_ERRORS):
        request.database_down = True


class ApiDatabaseDownMiddleware:
    """Under /api/, a 500 caused by a lost database connection outside DRF
    (session or authentication middleware, rendering) answers the API's
    JSON 503 instead of Django's HTML page. DRF views answer it themselves
    (``core.exception_handler``)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 500
            and request.path.startswith("/api/")
            and getattr(request, "database_down", False)
        ):
            response = JsonResponse(database_down_body(), status=503)
            response["Retry-After"] = DATABASE_DOWN_RETRY_AFTER
        return response
