"""Logging filters applied to every handler."""

import logging
import re

# 2547XXXXXXXX / 2541XXXXXXXX and the local 07…/01… forms, not inside
# longer digit runs (receipts, CheckoutRequestIDs keep their digits).
_PHONE = re.compile(r"(?<!\d)(\+?254|0)([17]\d{2})(\d{3})(\d{3})(?!\d)")


def mask_phone_numbers(text: str) -> str:
    """Replace the middle digits of every Kenyan mobile number in ``text``."""
    return _PHONE.sub(lambda m: f"{m[1]}{m[2][0]}******{m[4]}", text)


class MaskPhoneNumbers(logging.Filter):
    """Defence in depth: mask phone numbers that reached a log message.

    Code masks numbers itself (``payments.daraja.phone.mask_phone``); this
    catches anything that slipped through, e.g. a raw payload in an error.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_phone_numbers(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True
