"""Finding payments in the changelist: the search box and the list filters.

The whole search term is one value (phone numbers and names have spaces): a
receipt, a CheckoutRequestID, a MerchantRequestID, a phone number in any
form ``normalise_phone`` accepts, a booking id (``42`` or ``#42``), a
booking reference (``HYABC234``, any case, spaces or dashes), or the
client's username, first name, last name or "first last" (any case).
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from bookings.models import Booking
from bookings.references import booking_reference_normalise
from core.crypto import phone_index
from payments.models import Payment
from payments.phone import InvalidPhoneNumber, normalise_phone
from payments.reporting import payment_list_stuck
from payments.selectors import payments_receipt_pending

# Ids are bigints; longer digit strings are phone numbers or nothing.
_MAX_ID_DIGITS = 18
# A client's bookings matched by name, newest first; beyond this, search
# by phone or booking id.
MAX_CLIENT_BOOKINGS = 1000


def payment_search_q(term: str) -> Q:
    """A filter matching ``term`` against every identifier staff might hold.

    A term that is no phone number or id costs one small query first: the
    bookings of clients of that name, so that the payments are then found
    by their indexed ``booking_id`` rather than by a join on every row.
    """
    term = term.strip()
    query = (
        # Receipts are upper case (NLJ7RT61SV): exact match on the unique index.
        Q(mpesa_receipt_number=term.upper())
        | Q(checkout_request_id=term)
        | Q(merchant_request_id=term)
    )
    phone = _phone_or_none(term)
    if phone:
        # Numbers are encrypted: matched by their index (core.crypto).
        index = phone_index(phone)
        query |= Q(phone_index=index) | Q(paid_phone_index=index)
    digits = term.lstrip("#")
    is_number = digits.isascii() and digits.isdigit()
    if is_number and len(digits) <= _MAX_ID_DIGITS:
        query |= Q(booking_id=int(digits))
    reference = booking_reference_normalise(term)
    if reference:
        query |= Q(
            booking_id__in=Booking.objects.filter(reference=reference).values("pk")
        )
    if not (phone or is_number):
        booking_ids = _bookings_of_clients_named(term)
        if booking_ids:
            query |= Q(booking_id__in=booking_ids)
    return query


def _bookings_of_clients_named(term: str) -> list[int]:
    words = term.split()
    if not words:
        return []
    names = (
        Q(username__iexact=term)
        | Q(first_name__iexact=term)
        | Q(last_name__iexact=term)
    )
    if len(words) > 1:
        names |= Q(first_name__iexact=words[0], last_name__iexact=" ".join(words[1:]))
    clients = get_user_model().objects.filter(names).values("pk")
    bookings = Booking.objects.filter(client__in=clients).order_by("-pk")
    return list(bookings.values_list("pk", flat=True)[:MAX_CLIENT_BOOKINGS])


def _phone_or_none(term: str) -> str | None:
    try:
        return normalise_phone(term)
    except InvalidPhoneNumber:
        return None


class StuckFilter(admin.SimpleListFilter):
    """Open payments past the STK lifetime (MPESA_STK_LIFETIME_SECONDS)."""

    title = "stuck"
    parameter_name = "stuck"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("yes", "Stuck (open past the STK lifetime)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(pk__in=payment_list_stuck().values("pk"))
        return queryset


class ReceiptPendingFilter(admin.SimpleListFilter):
    """Completed payments whose M-Pesa receipt we do not know yet."""

    title = "receipt"
    parameter_name = "receipt"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("pending", "Pending (completed, receipt not known yet)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "pending":
            return queryset.filter(pk__in=payments_receipt_pending().values("pk"))
        return queryset


RESULT_CODES_CACHE_KEY = "payments:admin:result-codes"


class ResultCodeFilter(admin.SimpleListFilter):
    """Filter by Daraja's result code; choices are the codes on record."""

    title = "result code"
    parameter_name = "result_code"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        # A DISTINCT over the whole table on every page is the list's
        # slowest statement at 100,000 rows (bench/admin_list.py): cache it.
        codes = cache.get(RESULT_CODES_CACHE_KEY)
        if codes is None:
            codes = list(
                Payment.objects.exclude(result_code="")
                .order_by("result_code")
                .values_list("result_code", flat=True)
                .distinct()
            )
            cache.set(RESULT_CODES_CACHE_KEY, codes, timeout=300)
        return [(code, code) for code in codes]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.filter(result_code=self.value())
        return queryset
