"""Rate limits on STK pushes: per user and per phone number."""

from rest_framework.exceptions import Throttled
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle


class StkPushUserThrottle(UserRateThrottle):
    """``STK_PUSH_RATE_PER_USER`` pushes per user."""

    scope = "stk_push_user"


class StkPushPhoneThrottle(SimpleRateThrottle):
    """``STK_PUSH_RATE_PER_PHONE`` pushes per phone, whoever asks.

    Not a view throttle: DRF runs those before the view, so a stranger's
    404s and 400s would count against someone else's number and lock it
    out. The push service calls ``stk_push_phone_throttle`` once the push
    passed validation and ownership instead.
    """

    scope = "stk_push_phone"

    def __init__(self, phone: str) -> None:
        super().__init__()
        self.phone = phone

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.phone}


def stk_push_phone_throttle(phone: str) -> None:
    """Count one push to ``phone`` (normalised); raise ``Throttled`` (429,
    with Retry-After) when the number had its ``STK_PUSH_RATE_PER_PHONE``."""
    throttle = StkPushPhoneThrottle(phone)
    if not throttle.allow_request(None, None):
        raise Throttled(wait=throttle.wait())
