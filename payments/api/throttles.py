"""Rate limits on STK pushes: per user and per phone number."""

from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

from payments.daraja.exceptions import DarajaValidationError
from payments.daraja.phone import normalise_phone


class StkPushUserThrottle(UserRateThrottle):
    """``STK_PUSH_RATE_PER_USER`` pushes per user."""

    scope = "stk_push_user"


class StkPushPhoneThrottle(SimpleRateThrottle):
    """``STK_PUSH_RATE_PER_PHONE`` pushes per phone, whoever asks."""

    scope = "stk_push_phone"

    def get_cache_key(self, request, view) -> str | None:
        raw = request.data.get("phone_number") if hasattr(request.data, "get") else None
        if not raw:
            return None
        try:
            phone = normalise_phone(str(raw))
        except DarajaValidationError:
            return None  # refused later with a 400 anyway
        return self.cache_format % {"scope": self.scope, "ident": phone}
