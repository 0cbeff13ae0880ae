"""List filters for the payments changelist."""

from django.contrib import admin
from django.core.cache import cache
from django.db.models import QuerySet
from django.http import HttpRequest

from payments.models import Payment
from payments.reporting import payment_list_stuck


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
