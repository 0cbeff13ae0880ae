"""The daily close in the admin (Finance only; everyone else gets 403).

Under ``/admin/closing/dailyclose/``: the index of the last days (closed
or open, money in, and the 30-day chart), and per Nairobi day
``day/YYYY-MM-DD/``: the figures, the differences from M-Pesa's record,
the open items with links, "changed since closed" warnings, the "Close
this day" button (POST) and ``receipts.csv``. Viewing needs
``closing.view_dailyclose``, closing ``closing.close_day`` (both
Finance's, migration 0001). Nothing here writes but ``day_close``.
"""

import csv
from datetime import date, timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.template.response import TemplateResponse
from django.urls import path, re_path, reverse

from closing.chart import trend_svg
from closing.exceptions import DayCloseError
from closing.models import DailyClose
from closing.receipts_csv import receipts_csv_rows
from closing.services.closing import CLOSE_PERMISSION, day_close, day_state
from closing.services.days import FIRST_DAY, day_is_over
from closing.services.trends import TREND_DAYS, day_trend
from payments.admin.display import ReadOnlyMixin
from payments.reporting import money_in_per_day, nairobi_today

DAY_PATTERN = r"(?P<day>[0-9]{4}-[0-9]{2}-[0-9]{2})"
CHANNEL_LABELS = {"stk": "STK Push", "paybill": "Paybill", "till": "Till"}
OPEN_LABELS = {
    "needs_review": "Payments needing review",
    "unallocated": "Unallocated money",
    "stuck": "Stuck payments (open past the STK lifetime)",
    "refunds_unknown": "Refunds of unknown outcome",
    "receipt_pending": "Completed by a query, receipt pending",
}


class _Echo:
    """A file whose ``write`` returns the line (for a streamed CSV)."""

    def write(self, value: str) -> str:
        return value


@admin.register(DailyClose)
class DailyCloseAdmin(ReadOnlyMixin, admin.ModelAdmin):
    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            re_path(rf"^day/{DAY_PATTERN}/$", wrap(self.day_view), name="closing_day"),
            re_path(
                rf"^day/{DAY_PATTERN}/close/$",
                wrap(self.close_view),
                name="closing_day_close",
            ),
            re_path(
                rf"^day/{DAY_PATTERN}/receipts\.csv$",
                wrap(self.receipts_csv_view),
                name="closing_day_receipts_csv",
            ),
            path("", wrap(self.index_view), name="closing_dailyclose_changelist"),
        ]

    def index_view(self, request: HttpRequest) -> TemplateResponse:
        """The last 30 Nairobi days, newest first, closed or open."""
        self._require_view(request)
        today = nairobi_today()
        first = today - timedelta(days=TREND_DAYS - 1)
        closes = {
            close.day: close
            for close in DailyClose.objects.filter(day__gte=first).select_related(
                "closed_by"
            )
        }
        days = [
            {
                "day": row.day,
                "money_in": row.stk + row.paybill + row.till,
                "close": closes.get(row.day),
            }
            for row in money_in_per_day(first_day=first, last_day=today)
        ]
        context = {
            **self._context(request, "Daily close"),
            "days": days,
            "chart": trend_svg(day_trend(last_day=today)),
        }
        return TemplateResponse(request, "admin/closing/index.html", context)

    def day_view(self, request: HttpRequest, day: str) -> TemplateResponse:
        """One day's figures, open items, close state and chart."""
        self._require_view(request)
        asked = _day(day)
        state = day_state(day=asked)
        over = day_is_over(asked)
        context = {
            **self._context(request, f"Daily close: {asked:%a %d %b %Y}"),
            "state": state,
            "figures": state.figures,
            "channels": [
                (label, state.figures["money_in"][key])
                for key, label in CHANNEL_LABELS.items()
            ],
            "open_kinds": [
                (key, label, state.figures["open_items"][key])
                for key, label in OPEN_LABELS.items()
            ],
            "is_over": over,
            "can_close": over
            and not state.is_closed
            and request.user.has_perm(CLOSE_PERMISSION),
            "chart": trend_svg(day_trend(last_day=asked)),
            "previous_day": asked - timedelta(days=1) if asked > FIRST_DAY else None,
            "next_day": asked + timedelta(days=1) if over else None,
        }
        return TemplateResponse(request, "admin/closing/day.html", context)

    def close_view(self, request: HttpRequest, day: str) -> HttpResponse:
        """POST: close the day (one service call), back to its page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._require_view(request)
        asked = _day(day)
        try:
            day_close(day=asked, user=request.user)
        except DayCloseError as exc:
            if exc.status_code == 403:
                raise PermissionDenied(exc.message) from exc
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{asked.isoformat()} is closed.")
        return HttpResponseRedirect(_day_url(asked))

    def receipts_csv_view(self, request: HttpRequest, day: str) -> HttpResponse:
        """The day's receipts as CSV (phones masked, formulas escaped)."""
        self._require_view(request)
        asked = _day(day)
        writer = csv.writer(_Echo())
        response = StreamingHttpResponse(
            (writer.writerow(row) for row in receipts_csv_rows(asked)),
            content_type="text/csv; charset=utf-8",
        )
        name = f"receipts-{asked.isoformat()}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def _require_view(self, request: HttpRequest) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    def _context(self, request: HttpRequest, title: str) -> dict:
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "today": nairobi_today(),
        }


def _day(text: str) -> date:
    """The URL's day; 404 for a date that does not exist, has not come or
    is before ``FIRST_DAY``."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise Http404(f"{text} is not a date (YYYY-MM-DD).") from None
    if day > nairobi_today():
        raise Http404(f"{text} is in the future.")
    if day < FIRST_DAY:
        raise Http404(f"{text} is before {FIRST_DAY.isoformat()}.")
    return day


def _day_url(day: date) -> str:
    return reverse("admin:closing_day", kwargs={"day": day.isoformat()})
