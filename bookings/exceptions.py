"""Booking domain errors, each with an HTTP status and a stable ``code``.

The API renders them through ``core.exception_handler`` as
``{"error": {"code", "message"}}``. No DRF here.
"""

from core.errors import DomainError


class BookingError(DomainError):
    """Base of every booking error."""


class BookingNotFound(BookingError):
    status_code = 404
    code = "not_found"
    default_message = "No such booking."


class BookingChangeNotAllowed(BookingError):
    """The user may read this booking (view_booking) but not change it."""

    status_code = 403
    code = "permission_denied"
    default_message = "You may view this booking but not change it."


class AdvocateNotFound(BookingError):
    status_code = 404
    code = "not_found"
    default_message = "No such advocate."


class UnknownAdvocate(BookingError):
    """The advocate named in a request body does not exist or is inactive."""

    status_code = 400
    code = "unknown_advocate"
    default_message = "This advocate does not exist or takes no bookings."


class ConsultationNotOffered(BookingError):
    status_code = 400
    code = "consultation_not_offered"
    default_message = "The advocate does not offer this consultation type."


class SlotInPast(BookingError):
    status_code = 400
    code = "slot_in_past"
    default_message = "This time has already passed; pick a later slot."


class SlotTooFarAhead(BookingError):
    """A day after the last of ``BOOKING_MAX_DAYS_AHEAD`` days from today."""

    status_code = 400
    code = "slot_too_far_ahead"
    default_message = "Bookings open only a limited number of days ahead."


class TooManyUnpaidBookings(BookingError):
    """The client already holds ``BOOKING_MAX_UNPAID_HOLDS`` unpaid slots."""

    status_code = 409
    code = "too_many_unpaid_bookings"
    default_message = (
        "You already hold the most unpaid bookings allowed; pay or cancel "
        "one before booking another."
    )


class SlotNotAvailable(BookingError):
    """Outside the advocate's hours, on a day off or off the slot grid."""

    status_code = 400
    code = "slot_not_available"
    default_message = "The advocate does not take bookings at this time."


class SlotTaken(BookingError):
    status_code = 409
    code = "slot_taken"
    default_message = "This slot has just been booked; pick another time."


class InvalidBookingTransition(BookingError):
    status_code = 409
    code = "invalid_transition"
    default_message = "That status change is not allowed for this booking."


class BookingNotPayable(BookingError):
    status_code = 409
    code = "booking_not_payable"
    default_message = "This booking cannot be paid."


class BookingNotCancellable(BookingError):
    status_code = 409
    code = "booking_not_cancellable"
    default_message = "This booking can no longer be cancelled."
