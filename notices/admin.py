"""Staff see which notices went out (read-only; phones masked)."""

from django.contrib import admin
from django.http import HttpRequest

from core.phone import mask_phone
from notices.models import Notice


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "kind",
        "channel",
        "masked_recipient",
        "status",
        "attempts",
        "sent_at",
    )
    list_filter = ("status", "kind", "channel")
    search_fields = ("dedupe_key", "booking__reference")
    fields = (
        "kind",
        "channel",
        "masked_recipient",
        "status",
        "attempts",
        "sent_at",
        "last_error",
        "subject",
        "body_text",
        "dedupe_key",
        "booking",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description="Recipient")
    def masked_recipient(self, notice: Notice) -> str:
        if notice.channel == Notice.Channel.SMS:
            return mask_phone(notice.recipient)
        return notice.recipient

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
