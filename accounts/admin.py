"""Client profiles for staff: read-only, the phone masked."""

from django.contrib import admin
from django.http import HttpRequest

from accounts.models import ClientProfile
from core.phone import mask_phone


@admin.register(ClientProfile)
class ClientProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "full_name", "masked_phone", "created_at")
    search_fields = ("user__username", "user__email", "full_name")
    fields = ("user", "full_name", "masked_phone", "created_at", "updated_at")
    readonly_fields = fields

    @admin.display(description="M-Pesa phone")
    def masked_phone(self, profile: ClientProfile) -> str:
        return mask_phone(profile.phone_number) if profile.phone_number else "-"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
