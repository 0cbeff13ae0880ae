"""Rate limit on booking: slots are scarce, holding them costs nothing."""

from rest_framework.throttling import UserRateThrottle


class BookingUserThrottle(UserRateThrottle):
    """``BOOKING_RATE_PER_USER`` booking requests per user."""

    scope = "booking_user"
