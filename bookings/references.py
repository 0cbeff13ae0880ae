"""Booking references: ``HY`` + 6 characters, easy to type on a phone.

The alphabet leaves out 0/O, 1/I/L, so nothing looks like something else.
A typed reference (a Paybill account number, a staff search) is matched
through ``booking_reference_normalise``: upper case, spaces and dashes
removed. Ambiguous characters are refused, not mapped: a reference never
contains them, so "HY0..." is a typing mistake we cannot correct safely
(0 could be O or D).
"""

import re
import secrets

BOOKING_REFERENCE_PREFIX = "HY"
BOOKING_REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
BOOKING_REFERENCE_RANDOM_LENGTH = 6
BOOKING_REFERENCE_LENGTH = len(BOOKING_REFERENCE_PREFIX) + (
    BOOKING_REFERENCE_RANDOM_LENGTH
)

_SEPARATORS = re.compile(r"[\s\-]+")
_REFERENCE = re.compile(
    rf"{BOOKING_REFERENCE_PREFIX}[{BOOKING_REFERENCE_ALPHABET}]"
    rf"{{{BOOKING_REFERENCE_RANDOM_LENGTH}}}"
)


def booking_reference_new() -> str:
    """A fresh random reference (``secrets``); uniqueness is the caller's
    to check: the database constraint decides."""
    tail = "".join(
        secrets.choice(BOOKING_REFERENCE_ALPHABET)
        for _ in range(BOOKING_REFERENCE_RANDOM_LENGTH)
    )
    return BOOKING_REFERENCE_PREFIX + tail


def booking_reference_normalise(text: object) -> str | None:
    """The reference ``text`` spells, or ``None`` when it spells none.

    Case, spaces (any whitespace) and dashes are forgiven: " hy-abc 234 "
    is ``HYABC234``. Anything else is refused rather than guessed: another
    length, another prefix, or a character outside the alphabet (0, O, 1,
    I, L included).
    """
    if not isinstance(text, str):
        return None
    candidate = _SEPARATORS.sub("", text).upper()
    if _REFERENCE.fullmatch(candidate):
        return candidate
    return None
