"""Payment routes. The first three paths are the seed guide's: the SPA
calls them as they are (no trailing slash)."""

from django.urls import path, re_path

from payments.api.refund_views import RefundViewSet
from payments.api.result_views import ResultViewSet
from payments.api.views import C2BViewSet, CallbackViewSet, PaymentViewSet

app_name = "payments"

urlpatterns = [
    path(
        "api/payment/mpesa/stk-push",
        PaymentViewSet.as_view({"post": "stk_push"}),
        name="initiate",
    ),
    # No NUL (PostgreSQL refuses it in a query: a 500) and no id longer
    # than the column; either is the API's JSON 404.
    re_path(
        r"^api/payment/mpesa/status/(?P<checkout_request_id>[^/\x00]{1,64})$",
        PaymentViewSet.as_view({"get": "status"}),
        name="status",
    ),
    path(
        "api/payment/callback/<str:secret>",
        CallbackViewSet.as_view({"post": "create"}),
        name="callback",
    ),
    path(
        "api/payment/c2b/validation/<str:secret>",
        C2BViewSet.as_view({"post": "validation"}),
        name="c2b-validation",
    ),
    path(
        "api/payment/c2b/confirmation/<str:secret>",
        C2BViewSet.as_view({"post": "confirmation"}),
        name="c2b-confirmation",
    ),
    path(
        "api/payment/result/<str:secret>",
        ResultViewSet.as_view({"post": "result"}),
        name="result",
    ),
    path(
        "api/payment/timeout/<str:secret>",
        ResultViewSet.as_view({"post": "timeout"}),
        name="queue-timeout",
    ),
    path("api/payments/", PaymentViewSet.as_view({"get": "list"}), name="list"),
    path(
        "api/payments/<int:pk>/",
        PaymentViewSet.as_view({"get": "retrieve"}),
        name="detail",
    ),
    path(
        "api/staff/refunds/",
        RefundViewSet.as_view({"get": "list", "post": "create"}),
        name="refunds",
    ),
    path(
        "api/staff/refunds/<int:pk>/",
        RefundViewSet.as_view({"get": "retrieve"}),
        name="refund-detail",
    ),
    *(
        path(
            f"api/staff/refunds/<int:pk>/{operation}/",
            RefundViewSet.as_view({"post": operation}),
            name=f"refund-{operation}",
        )
        for operation in ("approve", "reject", "cancel")
    ),
]
