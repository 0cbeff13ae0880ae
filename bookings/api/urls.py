"""Bookings API routes (full paths: the project includes this at the root)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from bookings.api.views import AdvocateViewSet, BookingViewSet

app_name = "bookings"


router = SimpleRouter()
router.register("api/advocates", AdvocateViewSet, basename="advocate")
router.register("api/bookings", BookingViewSet, basename="booking")

urlpatterns = [
    # The SPA's path (seed guide, BookingCheckout.jsx): no trailing slash.
    path(
        "api/documents/consultations/book",
        BookingViewSet.as_view({"post": "book"}),
        name="book",
    ),
    *router.urls,
]
