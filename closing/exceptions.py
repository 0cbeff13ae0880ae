"""Why a day could not be closed; each has a stable ``code``."""

from core.errors import DomainError


class DayCloseError(DomainError):
    """Base of the daily close's refusals."""

    code = "day_close_refused"
    default_message = "The day could not be closed."


class DayCloseNotAllowedError(DayCloseError):
    status_code = 403
    code = "day_close_not_allowed"
    default_message = "Only Finance may close a day."


class DayNotOverError(DayCloseError):
    code = "day_not_over"
    default_message = "Only a day that has ended (Nairobi time) can be closed."


class DayAlreadyClosedError(DayCloseError):
    status_code = 409
    code = "day_already_closed"
    default_message = "This day is already closed."
