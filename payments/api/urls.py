"""Payment routes. The first three paths are the seed guide's: the SPA
calls them as they are (no trailing slash)."""

from django.urls import path

from payments.api.views import CallbackViewSet, PaymentViewSet

app_name = "payments"

urlpatterns = [
    path(
        "api/payment/mpesa/stk-push",
        PaymentViewSet.as_view({"post": "stk_push"}),
        name="initiate",
    ),
    path(
        "api/payment/mpesa/status/<str:checkout_request_id>",
        PaymentViewSet.as_view({"get": "status"}),
        name="status",
    ),
    path(
        "api/payment/callback/<str:secret>",
        CallbackViewSet.as_view({"post": "create"}),
        name="callback",
    ),
    path("api/payments/", PaymentViewSet.as_view({"get": "list"}), name="list"),
    path(
        "api/payments/<int:pk>/",
        PaymentViewSet.as_view({"get": "retrieve"}),
        name="detail",
    ),
]
