"""The API's error envelope, for the OpenAPI schema and for URL misses."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

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
            body = {"error": {"code": "not_found", "message": "Not found."}}
            return JsonResponse(body, status=404)
        return response
