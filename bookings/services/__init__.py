"""The only writer of bookings: creation, holds and every status change.

Every change of ``status`` or ``payment_status`` goes through
``transitions.booking_transition``, which locks the row and checks
``Booking.ALLOWED_TRANSITIONS``/``ALLOWED_PAYMENT_TRANSITIONS``. Import
services from here (``from bookings.services import booking_mark_paid``).
"""

from bookings.services.creation import booking_create
from bookings.services.lifecycle import (
    booking_cancel,
    booking_expire_holds,
    booking_mark_completed,
    booking_mark_no_show,
    booking_mark_refunded,
)
from bookings.services.payment import (
    BookingPaymentOutcome,
    booking_assert_payable,
    booking_extend_hold,
    booking_mark_paid,
)

__all__ = [
    "BookingPaymentOutcome",
    "booking_assert_payable",
    "booking_cancel",
    "booking_create",
    "booking_expire_holds",
    "booking_extend_hold",
    "booking_mark_completed",
    "booking_mark_no_show",
    "booking_mark_paid",
    "booking_mark_refunded",
]
