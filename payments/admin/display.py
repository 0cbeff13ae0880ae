"""Read-only pieces shared by the payment admin pages and inlines.

The read-only mixin, status badges, links, and the masking of phone
numbers on screen (``payments.view_full_phone`` shows them in full).
"""

import json
import re
from collections.abc import Iterable

from django.contrib.auth.models import AbstractUser
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince

from core.logging_filters import redact_secrets
from payments.models import MpesaReceipt, Payment
from payments.phone import mask_phone

Status = Payment.Status


class ReadOnlyMixin:
    """Nobody adds, changes or deletes through the admin (events are
    append-only; payments change only through services)."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


STATUS_COLOURS = {
    Status.INITIATED: "#6c757d",
    Status.PENDING: "#b26a00",
    Status.COMPLETED: "#1e7e34",
    Status.FAILED: "#c82333",
    Status.EXPIRED: "#495057",
    Status.NEEDS_REVIEW: "#7b2cbf",
}
_BADGE = (
    '<span class="payment-status payment-status-{}" style="color:#fff;'
    'background:{};padding:2px 6px;border-radius:4px;white-space:nowrap">{}</span>'
)


def status_badge(status: str) -> SafeString:
    """The status as a coloured label."""
    colour = STATUS_COLOURS.get(status, "#6c757d")
    label = Status(status).label if status in Status.values else status
    return format_html(_BADGE, status, colour, label)


FULL_PHONE_PERMISSION = "payments.view_full_phone"
# Keys of Daraja bodies that hold the customer's number (STK push request,
# C2B); the STK callback's number is the ``PhoneNumber`` metadata item.
PHONE_KEYS = frozenset({"PartyA", "PhoneNumber", "MSISDN"})
# A Kenyan MSISDN inside free text (a body that was not JSON).
_MSISDN_IN_TEXT = re.compile(r"(?<![0-9])254[17][0-9]{8}(?![0-9])")


def masked_phone(phone: str | None) -> str:
    """``2547******149``: staff never need the full number on screen."""
    return mask_phone(phone) if phone else "-"


def full_phone(phone: str | None) -> str:
    """The number as stored, for users with ``payments.view_full_phone``."""
    return phone or "-"


def shows_full_phone(request: HttpRequest) -> bool:
    return request.user.has_perm(FULL_PHONE_PERMISSION)


# A v1 C2B confirmation's MSISDN: the SHA-256 of the number, in hex.
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


def payer_phone(value: str | None, *, full: bool = False) -> str:
    """A receipt's payer as Daraja gave it, fit for the screen: ``hashed``
    for a v1 SHA-256, a masked number as it came, a full number masked
    unless ``full`` (``payments.view_full_phone``)."""
    if not value:
        return "-"
    if _SHA256_HEX.fullmatch(value):
        return "hashed"
    if "*" in value:
        return value
    return value if full else mask_phone(value)


def fields_for(
    request: HttpRequest, fields: Iterable[str], full: dict[str, str]
) -> list[str]:
    """``fields`` with each masked field swapped for its full twin (the
    ``full`` mapping) when the user may see full phone numbers."""
    if not shows_full_phone(request):
        return list(fields)
    return [full.get(name, name) for name in fields]


def mask_phones(value: object) -> object:
    """A copy of a stored JSON body with the customer's number masked:
    ``PartyA``, ``PhoneNumber`` and the callback's ``PhoneNumber`` item,
    and any 2547... number inside text, at any depth. The stored body
    itself is never changed."""
    if isinstance(value, list):
        return [mask_phones(item) for item in value]
    if isinstance(value, str):
        # A number inside text: a result's "254708374149 - John Doe"
        # party names, B2C's PartyB.
        return mask_phones_in_text(value)
    if not isinstance(value, dict):
        return value
    masked = {}
    for key, item in value.items():
        if key in PHONE_KEYS and isinstance(item, str | int):
            masked[key] = mask_phone(item)
        else:
            masked[key] = mask_phones(item)
    if value.get("Name") in PHONE_KEYS and isinstance(value.get("Value"), str | int):
        masked["Value"] = mask_phone(value["Value"])
    return masked


def mask_phones_in_text(text: str) -> str:
    """Raw text (a body we could not parse) with every MSISDN masked."""
    return _MSISDN_IN_TEXT.sub(lambda match: mask_phone(match[0]), text)


def client_name(user: AbstractUser) -> str:
    """``wanjiru (Wanjiru Kamau)``, or the username alone."""
    full_name = user.get_full_name()
    return f"{user.username} ({full_name})" if full_name else user.username


def payment_link(payment_id: int) -> SafeString:
    url = reverse("admin:payments_payment_change", args=[payment_id])
    return format_html('<a href="{}">Payment {}</a>', url, payment_id)


def booking_link(booking_id: int, reference: str = "") -> SafeString:
    """A link to the booking's admin page: ``Booking 42 · HYABC234``."""
    url = reverse("admin:bookings_booking_change", args=[booking_id])
    if not reference:
        return format_html('<a href="{}">Booking {}</a>', url, booking_id)
    return format_html('<a href="{}">Booking {} · {}</a>', url, booking_id, reference)


def age(payment: Payment) -> str:
    """How long ago the payment was started, e.g. ``3 minutes``."""
    return timesince(payment.created_at, timezone.now(), depth=1)


def pretty_json(value: object) -> SafeString | str:
    """JSON indented in a scrollable block; ``-`` when empty."""
    if value in (None, "", {}, []):
        return "-"
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    # Rows stored before secrets were stripped on the way in still hold the
    # callback secret in CallBackURL: it is never shown (issue 11, point 7).
    text = redact_secrets(text)
    return format_html(
        '<pre style="max-height:24em;overflow:auto;white-space:pre-wrap;'
        'margin:0">{}</pre>',
        text,
    )


def allocation_badge(receipt: MpesaReceipt) -> SafeString:
    """``Allocated``, or ``Unallocated`` over its reason (and the refund
    mark), coloured."""
    if receipt.allocation == MpesaReceipt.Allocation.ALLOCATED:
        return mark_safe('<span class="receipt-allocated">Allocated</span>')  # noqa: S308
    if receipt.allocation != MpesaReceipt.Allocation.UNALLOCATED:
        return format_html("<span>{}</span>", receipt.get_allocation_display())
    marked = " · marked for refund" if receipt.refund_marked_at else ""
    return format_html(
        '<span class="receipt-unallocated">Unallocated</span>'
        '<div class="receipt-reason">{}{}</div>',
        receipt.get_unallocated_reason_display() or "-",
        marked,
    )
