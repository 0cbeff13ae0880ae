"""What staff type into the payments search box, as one query.

The whole term is one value (phone numbers have spaces): a receipt, a
CheckoutRequestID, a MerchantRequestID, a phone number in any form
``normalise_phone`` accepts, or a booking id (``42`` or ``#42``).
"""

from django.db.models import Q

from payments.daraja.exceptions import DarajaValidationError
from payments.daraja.phone import normalise_phone

# Ids are bigints; longer digit strings are phone numbers or nothing.
_MAX_ID_DIGITS = 18


def payment_search_q(term: str) -> Q:
    """A filter matching ``term`` against every identifier staff might hold."""
    term = term.strip()
    query = (
        # Receipts are upper case (NLJ7RT61SV): exact match on the unique index.
        Q(mpesa_receipt_number=term.upper())
        | Q(checkout_request_id=term)
        | Q(merchant_request_id=term)
    )
    phone = _phone_or_none(term)
    if phone:
        query |= Q(phone_number=phone) | Q(paid_phone_number=phone)
    digits = term.lstrip("#")
    if digits.isascii() and digits.isdigit() and len(digits) <= _MAX_ID_DIGITS:
        query |= Q(booking_id=int(digits))
    return query


def _phone_or_none(term: str) -> str | None:
    try:
        return normalise_phone(term)
    except DarajaValidationError:
        return None
