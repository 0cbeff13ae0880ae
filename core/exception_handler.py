"""One JSON error shape for the whole API.

Every error response is ``{"error": {"code": str, "message": str,
"fields": {field: [messages]}}}``; ``fields`` is present (possibly empty)
for validation errors only. Domain errors carry their own ``status_code``
and ``code`` (see ``core.errors.DomainError``); their context (ids the
client needs, e.g. ``payment_id``) is added beside ``code`` and ``message``.
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from core.api_errors import (
    DATABASE_DOWN_ERRORS,
    DATABASE_DOWN_RETRY_AFTER,
    database_down_body,
)
from core.errors import DomainError, error_body

logger = logging.getLogger(__name__)


def _flatten_message(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _flatten_message(detail[0])
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        return f"{key}: {_flatten_message(value)}"
    return str(detail)


def _validation_response(detail: Any) -> Response:
    fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
    message = _flatten_message(detail) or "Invalid input."
    return Response(
        error_body("invalid", message, fields), status=status.HTTP_400_BAD_REQUEST
    )


def _database_down_response(exc: Exception) -> Response:
    logger.error("database unavailable: %s", exc.__class__.__name__, exc_info=exc)
    response = Response(
        database_down_body(), status=status.HTTP_503_SERVICE_UNAVAILABLE
    )
    response["Retry-After"] = DATABASE_DOWN_RETRY_AFTER
    return response


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """Map domain, Django and DRF exceptions to the one error shape."""
    if isinstance(exc, DomainError):
        response = Response(exc.as_body(), status=exc.status_code)
        for header, value in exc.headers().items():
            response[header] = value
        return response
    if isinstance(exc, DATABASE_DOWN_ERRORS):
        return _database_down_response(exc)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return _validation_response(detail)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        return _validation_response(exc.detail)

    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    response.data = error_body(str(code), _flatten_message(exc.detail))
    return response
