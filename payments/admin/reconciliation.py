"""The reconciliation page: what finance checks every morning."""

import re
from datetime import date, timedelta

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest
from django.template.response import TemplateResponse

from payments import reporting
from payments.admin.display import age, masked_phone, status_badge
from payments.models import Payment

# The page lists cases to act on; beyond this, use the filtered list.
MAX_ROWS = 100
# ?day= takes a Nairobi date from here to today.
EARLIEST_DAY = date(2000, 1, 1)
# Money in per channel per day: the last 14 days unless ?from=&to= say
# otherwise, and at most this many days at once.
MONEY_DAYS_DEFAULT = 14
MONEY_DAYS_MAX = 92
_DAY_FORMAT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def reconciliation_view(request: HttpRequest, model_admin) -> TemplateResponse:
    """Counts and KES totals per status (a Nairobi day, ``?day=YYYY-MM-DD``,
    today by default, and the 7 days ending with it), stuck payments,
    payments needing review and failure reasons by result code."""
    today = reporting.nairobi_today()
    day = _day_asked(request, today=today)
    day_start = reporting.nairobi_midnight(day)
    day_end = reporting.nairobi_midnight(day + timedelta(days=1))
    week_start = reporting.nairobi_midnight(day - timedelta(days=6))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Payments reconciliation",
        "opts": Payment._meta,
        "day": day_start,
        "week_start": week_start,
        "is_today": day == today,
        "previous_day": (day - timedelta(days=1)).isoformat(),
        "next_day": (day + timedelta(days=1)).isoformat() if day < today else "",
        **_status_table(day_start, day_end, week_start),
        "stuck": _rows(reporting.payment_list_stuck()[:MAX_ROWS]),
        "needs_review": _rows(reporting.payment_list_needs_review()[:MAX_ROWS]),
        "review_reasons": reporting.payment_review_reasons(),
        "failure_reasons": reporting.payment_failure_reasons(
            since=week_start, until=day_end
        ),
        **_money_in(request, today=today),
        "max_rows": MAX_ROWS,
        "lifetime_seconds": settings.MPESA_STK_LIFETIME_SECONDS,
    }
    return TemplateResponse(
        request, "admin/payments/payment/reconciliation.html", context
    )


def _day_asked(request: HttpRequest, *, today: date) -> date:
    """The ``?day=`` asked for, or today (with a message) if it is unusable."""
    text = request.GET.get("day", "").strip()
    if not text:
        return today
    try:
        day = date.fromisoformat(text) if _DAY_FORMAT.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None or not EARLIEST_DAY <= day <= today:
        messages.error(
            request,
            f"Enter the day as YYYY-MM-DD, from {EARLIEST_DAY.isoformat()} to "
            f"today ({today.isoformat()}); showing today.",
        )
        return today
    return day


def _money_in(request: HttpRequest, *, today: date) -> dict:
    """The money-in table (``?from=``/``?to=``) and the ledger's totals."""
    first, last = _money_range_asked(request, today=today)
    rows = reporting.money_in_per_day(first_day=first, last_day=last)
    columns = ("stk", "paybill", "till", "receipt_pending", "unallocated", "total")
    return {
        "money_from": first,
        "money_to": last,
        "money_rows": rows,
        "money_totals": {c: sum(getattr(row, c) for row in rows) for c in columns},
        "receipt_pending": reporting.receipt_pending_total(),
        "unallocated": reporting.unallocated_total(),
    }


def _money_range_asked(request: HttpRequest, *, today: date) -> tuple[date, date]:
    """``?from=``/``?to=`` (Nairobi dates), or the last 14 days (with a
    message when they are unusable)."""
    default = (today - timedelta(days=MONEY_DAYS_DEFAULT - 1), today)
    texts = (request.GET.get("from", "").strip(), request.GET.get("to", "").strip())
    if not any(texts):
        return default
    first = _date_or_none(texts[0]) if texts[0] else default[0]
    last = _date_or_none(texts[1]) if texts[1] else today
    usable = (
        first is not None
        and last is not None
        and EARLIEST_DAY <= first <= last <= today
        and (last - first).days < MONEY_DAYS_MAX
    )
    if not usable:
        messages.error(
            request,
            "Enter the money-in range as YYYY-MM-DD, from no later than to, "
            f"up to today and at most {MONEY_DAYS_MAX} days; showing the last "
            f"{MONEY_DAYS_DEFAULT} days.",
        )
        return default
    return first, last


def _date_or_none(text: str) -> date | None:
    if not _DAY_FORMAT.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _status_table(day_start, day_end, week_start) -> dict:
    on_day = reporting.payment_status_totals(since=day_start, until=day_end)
    in_week = reporting.payment_status_totals(since=week_start, until=day_end)
    rows = [
        {
            "status": status,
            "badge": status_badge(status),
            "day": on_day[status].count,
            "day_amount": on_day[status].amount,
            "week": in_week[status].count,
            "week_amount": in_week[status].amount,
        }
        for status in Payment.Status.values
    ]
    totals = {
        key: sum(row[key] for row in rows)
        for key in ("day", "day_amount", "week", "week_amount")
    }
    return {"status_rows": rows, "totals": totals}


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
