"""Root URL configuration."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from accounts.auth_api import ObtainTokenView
from core.csp import DOCS_POLICY, with_policy
from core.health import healthz
from observability.views import metrics

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/auth/token/", ObtainTokenView.as_view(), name="auth-token"),
    path("", include("accounts.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI's own script is served from /api/docs/?script (no inline
    # <script>); both pages take their files from drf-spectacular-sidecar.
    path(
        "api/docs/",
        with_policy(DOCS_POLICY)(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
        name="docs",
    ),
    path(
        "api/redoc/",
        with_policy(DOCS_POLICY)(
            SpectacularRedocView.as_view(
                url_name="schema", template_name="api_docs/redoc.html"
            )
        ),
        name="redoc",
    ),
    path("", include("bookings.api.urls")),
    path("", include("payments.api.urls")),
    path("", include("core.pages_urls")),
]
