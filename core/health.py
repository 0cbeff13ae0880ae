"""``GET /healthz`` for load balancers: database, cache and broker state."""

import logging

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from hakiyetu.celery import app as celery_app

logger = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any driver error means "down" for a health probe
        logger.exception("health check: database unreachable")
        return False


def _cache_ok() -> bool:
    try:
        cache.set("healthz", "ok", timeout=10)
        return cache.get("healthz") == "ok"
    except Exception:
        logger.exception("health check: cache unreachable")
        return False


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        logger.exception("health check: broker unreachable")
        return False


@never_cache
@require_GET
def healthz(request):
    """200 when the database answers (cache or broker down: "degraded")."""
    checks = {
        "database": _database_ok(),
        "cache": _cache_ok(),
        "broker": _broker_ok(),
    }
    if not checks["database"]:
        overall, status = "down", 503
    elif all(checks.values()):
        overall, status = "ok", 200
    else:
        overall, status = "degraded", 200
    body = {"status": overall, **{k: "ok" if v else "down" for k, v in checks.items()}}
    return JsonResponse(body, status=status)
