"""The reconciliation page: what finance checks every morning."""

from django.conf import settings
from django.http import HttpRequest
from django.template.response import TemplateResponse

from payments import reporting
from payments.admin.display import age, masked_phone, status_badge
from payments.models import Payment

# The page lists cases to act on; beyond this, use the filtered list.
MAX_ROWS = 100


def reconciliation_view(request: HttpRequest, model_admin) -> TemplateResponse:
    """Counts per status (today, last 7 Nairobi days), stuck payments,
    payments needing review and failure reasons by result code."""
    today = reporting.nairobi_day_start()
    week = reporting.nairobi_day_start(days_ago=6)
    counts_today = reporting.payment_status_counts(since=today)
    counts_week = reporting.payment_status_counts(since=week)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Payments reconciliation",
        "opts": Payment._meta,
        "today": today,
        "week_start": week,
        "status_rows": [
            {
                "status": status,
                "badge": status_badge(status),
                "today": counts_today[status],
                "week": counts_week[status],
            }
            for status in Payment.Status.values
        ],
        "totals": (sum(counts_today.values()), sum(counts_week.values())),
        "stuck": _rows(reporting.payment_list_stuck()[:MAX_ROWS]),
        "needs_review": _rows(reporting.payment_list_needs_review()[:MAX_ROWS]),
        "failure_reasons": reporting.payment_failure_reasons(since=week),
        "max_rows": MAX_ROWS,
        "lifetime_seconds": settings.MPESA_STK_LIFETIME_SECONDS,
    }
    return TemplateResponse(
        request, "admin/payments/payment/reconciliation.html", context
    )


def _rows(payments) -> list[dict]:
    return [
        {
            "payment": payment,
            "phone": masked_phone(payment.phone_number),
            "status": status_badge(payment.status),
            "age": age(payment),
            "reason": getattr(payment, "review_reason", "") or payment.failure_reason,
        }
        for payment in payments
    ]
