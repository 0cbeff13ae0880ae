"""Logging filters applied to every handler."""

import logging
import re

# 2547XXXXXXXX / 2541XXXXXXXX and the local 07…/01… forms, not inside
# longer digit runs (receipts, CheckoutRequestIDs keep their digits).
_PHONE = re.compile(r"(?<!\d)(\+?254|0)([17]\d{2})(\d{3})(\d{3})(?!\d)")


# The callback URL's last segment is a secret (MPESA_CALLBACK_SECRET).
_CALLBACK_SECRET = re.compile(r"(/api/payment/callback/)[^/\s\"'?]+")


def mask_phone_numbers(text: str) -> str:
    """Replace the middle digits of every Kenyan mobile number in ``text``."""
    return _PHONE.sub(lambda m: f"{m[1]}{m[2][0]}******{m[4]}", text)


def redact(text: str) -> str:
    """Mask phone numbers and the callback secret in a log line."""
    return _CALLBACK_SECRET.sub(r"\1***", mask_phone_numbers(text))


class MaskPhoneNumbers(logging.Filter):
    """Defence in depth: mask phone numbers and the callback secret.

    Code masks numbers itself (``payments.daraja.phone.mask_phone``); this
    catches anything that slipped through, e.g. a raw payload in an error,
    or a request line in an access log that carries the callback secret.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True
