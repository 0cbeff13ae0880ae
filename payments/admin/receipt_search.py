"""Finding receipts in the ledger: the search box and the sightings filter.

The whole search term is one value: a receipt number, a phone number in
any form ``normalise_phone`` accepts, an account number as the payer typed
it, or a booking reference (any case, spaces or dashes). A phone number
matches a payer stored in full, as the SHA-256 of ``2547...`` (v1 C2B
payloads) and as a masked number (v2 payloads, ``2547 ***** 126``) whose
visible first and last digits are the number's. The payer is encrypted, so
full and hashed payers are found by ``payer_phone_index`` (the hash computed
from the number at query time) and masked ones by their visible digits,
``payer_phone_masked_key`` (core.crypto).
"""

import re

from django.contrib import admin
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Replace, Upper
from django.http import HttpRequest

from bookings.references import booking_reference_normalise
from core.crypto import masked_key, phone_search_indexes
from payments.models import MpesaReceiptSighting
from payments.phone import InvalidPhoneNumber, normalise_phone

_SPACES = re.compile(r"\s+")
# A masked number shows at least this many digits on each side to match:
# "254*****9" says too little to tell clients apart.
MIN_VISIBLE_START = 4
MIN_VISIBLE_END = 2


def receipt_search_q(term: str) -> Q:
    """A filter matching ``term`` against what staff might hold."""
    term = term.strip()
    compact = _SPACES.sub("", term)
    query = Q(receipt_number=compact.upper()) | Q(account_reference__iexact=term)
    phone = _phone_or_none(term)
    if phone:
        query |= payer_phone_q(phone)
    reference = booking_reference_normalise(term)
    if reference:
        query |= Q(booking__reference=reference) | Q(account_typed_as=reference)
    return query


def with_search_fields(queryset: QuerySet) -> QuerySet:
    """The alias ``receipt_search_q`` filters on: the account number
    without spaces or dashes, upper case."""
    account = Upper(
        Replace(Replace("account_reference", Value(" ")), Value("-")),
    )
    return queryset.alias(account_typed_as=account)


def payer_phone_q(phone: str) -> Q:
    """Receipts paid from ``phone`` (``2547XXXXXXXX``), however stored."""
    stored = Q(payer_phone_index__in=phone_search_indexes(phone))
    masked = Q(payer_phone_masked_key__in=masked_keys(phone))
    return stored | masked


def masked_keys(phone: str) -> list[str]:
    """Every masked key of ``phone``: some of its first digits (at least
    the country code and the first national one), some of its last."""
    return sorted(
        masked_key(phone[:start], phone[-end:])
        for start in range(MIN_VISIBLE_START, len(phone))
        for end in range(MIN_VISIBLE_END, len(phone) - start + 1)
    )


def _phone_or_none(term: str) -> str | None:
    try:
        return normalise_phone(term)
    except InvalidPhoneNumber:
        return None


class SightingSourceFilter(admin.SimpleListFilter):
    """Receipts reported by a given source (at least once)."""

    title = "seen by"
    parameter_name = "seen_by"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return list(MpesaReceiptSighting.Source.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in MpesaReceiptSighting.Source.values:
            seen = MpesaReceiptSighting.objects.filter(source=self.value())
            return queryset.filter(pk__in=seen.values("receipt_id"))
        return queryset
