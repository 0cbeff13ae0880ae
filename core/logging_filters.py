"""Logging filters applied to every handler."""

import logging
import re

# 2547XXXXXXXX / 2541XXXXXXXX and the local 07…/01… forms, not inside
# longer digit runs (receipts, CheckoutRequestIDs keep their digits).
_PHONE = re.compile(r"(?<!\d)(\+?254|0)([17]\d{2})(\d{3})(\d{3})(?!\d)")


# Real CheckoutRequestIDs are ws_CO_ + DDMMYYYYHHMMSS + milliseconds + the
# payer's last 9 digits (../shared/daraja.md §2); older ones carry no number
# and have fewer digits.
_CHECKOUT_ID_PHONE = re.compile(r"(ws_CO_\d{14,})(\d)\d{5}(\d{3})(?!\d)")

# The last segment of the callback URL (MPESA_CALLBACK_SECRET), of the
# two C2B URLs (MPESA_C2B_SECRET) and of the result and queue time-out URLs
# (MPESA_RESULT_SECRET) is a secret.
_CALLBACK_SECRET = re.compile(
    r"(/api/payment/(?:callback|c2b/validation|c2b/confirmation|result|timeout)/)"
    r"[^/\s\"'?]+"
)
# The settings whose values are masked wherever they appear.
SECRET_SETTINGS = (
    "MPESA_CALLBACK_SECRET",
    "MPESA_C2B_SECRET",
    "MPESA_RESULT_SECRET",
    "MPESA_INITIATOR_PASSWORD",
    "MPESA_B2C_INITIATOR_PASSWORD",
    "EMAIL_HOST_PASSWORD",
    "AFRICASTALKING_API_KEY",
)
# user:password@ in a URL (broker, database or cache URLs in an error).
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@", re.I)
_MIN_SECRET_LENGTH = 8  # shorter values would mask ordinary words


def mask_phone_numbers(text: str) -> str:
    """Replace the middle digits of every Kenyan mobile number in ``text``,
    including the number a CheckoutRequestID ends with."""
    text = _CHECKOUT_ID_PHONE.sub(r"\1\2*****\3", text)
    return _PHONE.sub(lambda m: f"{m[1]}{m[2][0]}******{m[4]}", text)


def redact(text: str) -> str:
    """Mask phone numbers, URL passwords and the callback and C2B secrets."""
    return redact_secrets(mask_phone_numbers(text))


def redact_secrets(text: str) -> str:
    """Mask URL passwords and the callback and C2B secrets (not phone
    numbers)."""
    text = _CALLBACK_SECRET.sub(r"\1***", text)
    text = _URL_PASSWORD.sub(r"\1***@", text)
    for secret in _configured_secrets():
        if len(secret) >= _MIN_SECRET_LENGTH:
            text = text.replace(secret, "***")
    return text


def _configured_secrets() -> list[str]:
    """The secrets' values, masked wherever they appear (a proxied path, a
    raw URL in an error)."""
    from django.conf import settings

    if not settings.configured:
        return []
    return [str(getattr(settings, name, "") or "") for name in SECRET_SETTINGS]


class MaskPhoneNumbers(logging.Filter):
    """Defence in depth: mask phone numbers and the callback and C2B secrets.

    Code masks numbers itself (``payments.phone.mask_phone``); this
    catches anything that slipped through, e.g. a raw payload in an error,
    or a request line in an access log that carries a URL's secret.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text: a traceback names values too.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
