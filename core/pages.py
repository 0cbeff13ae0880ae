"""The server-rendered checkout page at ``/`` and its session sign-in.

The page is the reference client of the payments API: it books and pays
through the same JSON endpoints as the SPA (session auth plus the
``X-CSRFToken`` header), with ``static/hakiyetu/checkout.js`` doing the
pushing and polling. The view itself only reads (one selector call).
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from bookings.api.serializers import OutputAdvocateSerializer
from bookings.demo_accounts import DEMO_PASSWORD, DEMO_USERS
from bookings.selectors import advocate_list_active
from core.csp import content_security_policy

# The simulator's outcomes a newcomer can try (docs/simulator.md).
TEST_PHONES = (
    ("254708374149", "pays"),
    ("254711000000", "cancels"),
    ("254700000001", "insufficient funds"),
    ("254700002001", "wrong PIN"),
)


@content_security_policy
@require_safe
@ensure_csrf_cookie
def checkout_page(request: HttpRequest) -> HttpResponse:
    """Book a consultation and pay it with M-Pesa (an STK prompt, or by hand
    to the Paybill ``MPESA_C2B_SHORT_CODE``); sign-in form if anonymous."""
    today = timezone.localdate()
    context = {
        "demo": _demo_context() if settings.DEBUG else None,
        "today": today.isoformat(),
        "default_date": (today + timedelta(days=1)).isoformat(),
        # The Paybill box is shown only when there is a number to pay.
        "paybill_short_code": settings.MPESA_C2B_SHORT_CODE,
    }
    if request.user.is_authenticated:
        advocates = OutputAdvocateSerializer(advocate_list_active(), many=True).data
        context["advocates"] = advocates
    return render(request, "checkout/page.html", context)


def _demo_context() -> dict:
    """Demo logins and test phones, shown only when DEBUG is on."""
    return {
        "logins": [(name, DEMO_PASSWORD) for name, _ in DEMO_USERS],
        "phones": TEST_PHONES,
    }


@method_decorator(content_security_policy, name="dispatch")
class CheckoutLoginView(auth_views.LoginView):
    """Session sign-in for the checkout page; back to ``/`` afterwards."""

    template_name = "checkout/login.html"
    next_page = reverse_lazy("pages:checkout")
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context["demo"] = _demo_context() if settings.DEBUG else None
        return context


@method_decorator(content_security_policy, name="dispatch")
class CheckoutLogoutView(auth_views.LogoutView):
    """Sign out (POST only, as Django requires) and return to ``/``."""

    next_page = reverse_lazy("pages:checkout")
