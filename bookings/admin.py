"""Admin: advocates with their offers and hours; bookings read-only.

Booking statuses change only through services (admin actions below), so
the transition rules hold here too. The payments inline is added by the
payments app.
"""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from bookings import services
from bookings.exceptions import BookingError
from bookings.models import (
    Advocate,
    Booking,
    ConsultationType,
    DayOff,
    PracticeArea,
    WeeklyAvailability,
)
from core.money import format_kes


class ConsultationTypeInline(admin.TabularInline):
    model = ConsultationType
    extra = 0


class WeeklyAvailabilityInline(admin.TabularInline):
    model = WeeklyAvailability
    extra = 0


class DayOffInline(admin.TabularInline):
    model = DayOff
    extra = 0


@admin.register(PracticeArea)
class PracticeAreaAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(Advocate)
class AdvocateAdmin(admin.ModelAdmin):
    list_display = ("name", "active", "created_at")
    list_filter = ("active", "practice_areas")
    search_fields = ("name",)
    filter_horizontal = ("practice_areas",)
    inlines = (ConsultationTypeInline, WeeklyAvailabilityInline, DayOffInline)


def _run_on_each(request: HttpRequest, queryset: QuerySet, service, done: str) -> None:
    """Call ``service(booking_id=...)`` per booking, reporting refusals."""
    succeeded = 0
    for booking_id in queryset.values_list("pk", flat=True):
        try:
            service(booking_id=booking_id)
        except BookingError as exc:
            messages.error(request, f"Booking {booking_id}: {exc.message}")
        else:
            succeeded += 1
    if succeeded:
        messages.success(request, f"{succeeded} booking(s) {done}.")


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "reference",
        "client",
        "advocate",
        "start",
        "consultation_type",
        "amount_column",
        "status",
        "payment_status",
    )
    list_filter = ("status", "payment_status", "consultation_type", "advocate")
    search_fields = ("=id", "=reference", "client__username", "advocate__name")
    date_hierarchy = "start"
    list_select_related = ("client", "advocate")
    readonly_fields = (
        "reference",
        "client",
        "advocate",
        "consultation_type",
        "duration",
        "start",
        "end",
        "amount_column",
        "status",
        "payment_status",
        "expires_at",
        "created_at",
        "updated_at",
    )
    # Every field is read-only; the amount shows as KES 3,000.
    fields = readonly_fields
    actions = ("cancel", "mark_completed", "mark_no_show", "mark_refunded")

    @admin.display(description="amount", ordering="amount")
    def amount_column(self, booking: Booking) -> str:
        return format_kes(booking.amount)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Bookings are made through the API, which prices them.
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.action(
        description="Cancel (paid bookings become refund due)", permissions=["change"]
    )
    def cancel(self, request: HttpRequest, queryset: QuerySet) -> None:
        def _cancel(*, booking_id: int) -> Booking:
            return services.booking_cancel(booking_id=booking_id, actor=request.user)

        _run_on_each(request, queryset, _cancel, "cancelled")

    @admin.action(description="Mark completed", permissions=["change"])
    def mark_completed(self, request: HttpRequest, queryset: QuerySet) -> None:
        _run_on_each(request, queryset, services.booking_mark_completed, "completed")

    @admin.action(description="Mark no-show", permissions=["change"])
    def mark_no_show(self, request: HttpRequest, queryset: QuerySet) -> None:
        _run_on_each(request, queryset, services.booking_mark_no_show, "marked no-show")

    @admin.action(description="Mark refund paid out", permissions=["change"])
    def mark_refunded(self, request: HttpRequest, queryset: QuerySet) -> None:
        _run_on_each(request, queryset, services.booking_mark_refunded, "refunded")
