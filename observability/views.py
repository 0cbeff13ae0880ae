"""GET /metrics for Prometheus; a 404 to anyone not allowed to read it."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from core.errors import error_body
from observability.access import metrics_access_allowed
from observability.exposition import metrics_text


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """The Prometheus text format; the project's JSON 404 when the caller
    has neither the token nor an allowed address (the endpoint's existence
    is not revealed)."""
    if not metrics_access_allowed(request):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)
