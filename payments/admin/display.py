"""Read-only renderings shared by the payment admin pages and inlines."""

import json

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

from payments.daraja.phone import mask_phone
from payments.models import Payment

Status = Payment.Status

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


def masked_phone(phone: str | None) -> str:
    """``2547******149``: staff never need the full number on screen."""
    return mask_phone(phone) if phone else "-"


def payment_link(payment_id: int) -> SafeString:
    url = reverse("admin:payments_payment_change", args=[payment_id])
    return format_html('<a href="{}">Payment {}</a>', url, payment_id)


def booking_link(booking_id: int) -> SafeString:
    url = reverse("admin:bookings_booking_change", args=[booking_id])
    return format_html('<a href="{}">Booking {}</a>', url, booking_id)


def age(payment: Payment) -> str:
    """How long ago the payment was started, e.g. ``3 minutes``."""
    return timesince(payment.created_at, timezone.now(), depth=1)


def pretty_json(value: object) -> SafeString | str:
    """JSON indented in a scrollable block; ``-`` when empty."""
    if value in (None, "", {}, []):
        return "-"
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return format_html(
        '<pre style="max-height:24em;overflow:auto;white-space:pre-wrap;'
        'margin:0">{}</pre>',
        text,
    )
