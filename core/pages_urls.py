"""Routes of the checkout page (included last, at the root)."""

from django.urls import path

from core.pages import CheckoutLoginView, CheckoutLogoutView, checkout_page

app_name = "pages"

urlpatterns = [
    path("", checkout_page, name="checkout"),
    path("login/", CheckoutLoginView.as_view(), name="login"),
    path("logout/", CheckoutLogoutView.as_view(), name="logout"),
]
