"""Kenyan mobile numbers: the domain rule for normalising and masking them.

``normalise_phone`` turns what a customer or staff member types into the
MSISDN form Daraja expects (``2547XXXXXXXX``); ``mask_phone`` hides the
middle digits for logs and screens. Pure standard library, so every layer
may import it: the API, the admin, the services and the Daraja adapter
(which normalises again before sending).
"""

from __future__ import annotations

import re

# Nine national digits after the country code: 7XXXXXXXX or 1XXXXXXXX (the
# 01x ranges exist since 2019, so no hard-coded 2547: SmoDav/mpesa#49).
# Spelled [0-9], never \d, which also matches non-ASCII digits.
_NATIONAL = r"(?P<national>[17][0-9]{8})"
_PHONE = re.compile(rf"(?:\+?254|0)?{_NATIONAL}")
_SEPARATORS = re.compile(r"[\s\-]+")
# A masked number: visible leading digits, stars (spaces around them, as in
# C2B v2's "2547 ***** 126"), visible trailing digits.
_MASKED = re.compile(r"\+?(?P<head>[0-9]{2,11})\s*\*+\s*(?P<tail>[0-9]{2,9})")
_FIELD = "phone_number"


class InvalidPhoneNumber(ValueError):
    """A value that is not a Kenyan mobile number.

    ``field`` is always ``"phone_number"``; ``message`` is shown to people.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def normalise_phone(value: str | int) -> str:
    """Return ``value`` as an MSISDN: ``2547XXXXXXXX`` or ``2541XXXXXXXX``.

    Accepts ``07…``, ``01…``, ``7…``, ``1…``, ``+254…`` and ``254…``, with
    spaces or dashes, as a string or an int.

    Raises:
        InvalidPhoneNumber: (field ``phone_number``) for anything that is
            not a Kenyan mobile number: landlines, wrong length, letters,
            other countries, other types.
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidPhoneNumber(_FIELD, "Enter the phone number as text.")
    if isinstance(value, int) and value < 0:
        raise InvalidPhoneNumber(
            _FIELD, "Enter a Kenyan mobile number, e.g. 0712 345 678."
        )
    text = _SEPARATORS.sub("", str(value))
    match = _PHONE.fullmatch(text)
    if match is None:
        raise InvalidPhoneNumber(
            _FIELD, "Enter a Kenyan mobile number, e.g. 0712 345 678."
        )
    return "254" + match["national"]


def mask_phone(value: str | int | None) -> str:
    """Hide the middle of a phone number for logs: ``2547******149``.

    The number of hidden digits is fixed so the length is not revealed.
    """
    if value is None:
        return ""
    text = str(value)
    if len(text) < 8:
        return "*" * len(text)
    return f"{text[:4]}******{text[-3:]}"


def masked_phone_digits(value: str) -> tuple[str, str] | None:
    """The visible digits of a masked number, as (leading digits of the
    MSISDN, trailing digits): ``2547****149`` and ``07******149`` give
    ``("2547", "149")``. None unless at least the country code and the
    first national digit lead and three digits trail (a hash, a bare
    mask, anything else)."""
    masked = _MASKED.fullmatch(value.strip())
    if masked is None:
        return None
    head, tail = masked["head"], masked["tail"]
    if head.startswith("0"):
        head = "254" + head[1:]
    if not head.startswith("254") or len(head) < 4 or len(tail) < 3:
        return None
    return head, tail
