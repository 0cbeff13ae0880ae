"""Which payments a payer's number, as Daraja reported it, may be.

Numbers are encrypted at rest (core.crypto), so the database narrows by
index columns and Python decides on the decrypted number: a full number
matches by its HMAC index; a masked one (``2547 ***** 149``) by the first
four and last three digits M-Pesa shows, then by every visible digit. A
hashed number never matches.
"""

from django.db.models import Q

from core.crypto import masked_key, phone_index
from payments.phone import InvalidPhoneNumber, masked_phone_digits, normalise_phone


def payer_phone_filter(phone: str | None) -> Q | None:
    """The payments whose number the callback's PhoneNumber may be, by the
    index columns (numbers are encrypted): the same number once normalised,
    or the first four and last three visible digits of a masked one. Keep
    only those ``payer_phone_agrees`` with (a mask may show more digits)."""
    if not phone:
        return None
    index = phone_index(phone)
    if index:
        return Q(phone_index=index)
    visible = masked_phone_digits(phone)
    if visible is None:
        return None  # hashed or unreadable: never matches
    head, tail = visible
    return Q(phone_masked_key=masked_key(head[:4], tail[-3:]))


def payer_phone_agrees(phone: str | None, number: str) -> bool:
    """Whether the payer ``phone`` (full or masked) may be ``number``."""
    if not phone:
        return False
    try:
        return normalise_phone(phone) == number
    except InvalidPhoneNumber:
        pass
    visible = masked_phone_digits(phone)
    if visible is None:
        return False
    head, tail = visible
    return number.startswith(head) and number.endswith(tail)
