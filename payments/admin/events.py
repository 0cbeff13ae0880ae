"""The append-only event log in the admin: an inline and its own list."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from core.logging_filters import redact_secrets
from payments.admin.display import (
    ReadOnlyMixin,
    fields_for,
    mask_phones,
    mask_phones_in_text,
    payment_link,
    pretty_json,
)
from payments.models import PaymentEvent


def event_transition(event: PaymentEvent) -> str:
    """``pending → completed``; the first event reads ``— → initiated``."""
    if not (event.from_status or event.to_status):
        return "-"
    return f"{event.from_status or '—'} → {event.to_status or '—'}"


# The payload column has a twin showing phone numbers in full, swapped in
# for users with payments.view_full_phone (see ``fields_for``).
FULL_PAYLOAD = {"payload": "payload_full"}


def event_payload(event: PaymentEvent, *, full_phone: bool = False) -> SafeString | str:
    """Every body of the exchange, pretty-printed, labelled; customers'
    phone numbers masked unless ``full_phone``."""
    parts = [
        ("Request", event.request_body),
        ("Response", event.response_body),
        ("Headers", event.headers),
    ]
    if event.request_body is None and event.raw_body:
        parts.insert(0, ("Raw body", event.raw_body))
    if not full_phone:
        parts = [(label, _masked(body)) for label, body in parts]
    shown = [(label, pretty_json(body)) for label, body in parts if body]
    if event.error:
        error = event.error if full_phone else mask_phones_in_text(event.error)
        shown.append(("Error", format_html("<pre>{}</pre>", redact_secrets(error))))
    if not shown:
        return "-"
    return format_html_join("", "<div><strong>{}</strong>{}</div>", shown)


def _masked(body: object) -> object:
    if isinstance(body, str):
        return mask_phones_in_text(body)
    return mask_phones(body)


class PaymentEventInline(ReadOnlyMixin, admin.TabularInline):
    """The payment's history, newest first, with raw JSON shown pretty."""

    model = PaymentEvent
    extra = 0
    can_delete = False
    ordering = ("-created_at", "-id")
    fields = (
        "created_at",
        "kind",
        "operation",
        "transition",
        "reason",
        "actor",
        "http_status",
        "source_ip",
        "payload",
    )
    readonly_fields = (*fields, "payload_full")
    verbose_name_plural = "History (every exchange with Daraja, newest first)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[PaymentEvent]:
        return super().get_queryset(request).select_related("actor")

    def get_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return fields_for(request, self.fields, FULL_PAYLOAD)

    @admin.display(description="status")
    def transition(self, event: PaymentEvent) -> str:
        return event_transition(event)

    @admin.display(description="payload")
    def payload(self, event: PaymentEvent) -> SafeString | str:
        return event_payload(event)

    @admin.display(description="payload")
    def payload_full(self, event: PaymentEvent) -> SafeString | str:
        return event_payload(event, full_phone=True)


@admin.register(PaymentEvent)
class PaymentEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Every event on its own, including callbacks we could not match."""

    list_display = (
        "created_at",
        "kind",
        "operation",
        "payment_column",
        "checkout_request_id",
        "transition",
        "actor",
        "http_status",
    )
    list_filter = ("kind", "operation")
    search_fields = ("=checkout_request_id", "=payment__id")
    list_select_related = ("actor",)
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "kind",
        "operation",
        "payment_column",
        "checkout_request_id",
        "transition",
        "reason",
        "actor",
        "http_status",
        "duration_ms",
        "source_ip",
        "payload",
    )
    readonly_fields = (*fields, "payload_full")

    def get_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return fields_for(request, self.fields, FULL_PAYLOAD)

    @admin.display(description="payment", ordering="payment_id")
    def payment_column(self, event: PaymentEvent) -> SafeString | str:
        return payment_link(event.payment_id) if event.payment_id else "unmatched"

    @admin.display(description="status")
    def transition(self, event: PaymentEvent) -> str:
        return event_transition(event)

    @admin.display(description="payload")
    def payload(self, event: PaymentEvent) -> SafeString | str:
        return event_payload(event)

    @admin.display(description="payload")
    def payload_full(self, event: PaymentEvent) -> SafeString | str:
        return event_payload(event, full_phone=True)
