"""``manage.py daily_close --date YYYY-MM-DD [--json] [--close --user NAME]``:
print one Nairobi day's figures (``--json``: one JSON object), and with
``--close`` close the day as ``--user`` (who needs ``closing.close_day``).

A date that is not ``YYYY-MM-DD``, is in the future or before ``FIRST_DAY``
(2000-01-01), an unknown user and a refused close are ``CommandError``
(exit status 1, nothing written).
"""

import argparse
import json
import re
from datetime import date

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from closing.exceptions import DayCloseError
from closing.services.closing import day_close, day_state
from closing.services.days import FIRST_DAY
from closing.services.open_items import OPEN_ITEM_KINDS
from payments.reporting import nairobi_today

_DAY_FORMAT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class Command(BaseCommand):
    help = "Print one Nairobi day's figures for the daily close, or close it."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--date", required=True, help="the day, YYYY-MM-DD")
        parser.add_argument("--json", action="store_true", help="print JSON")
        parser.add_argument("--close", action="store_true", help="close the day")
        parser.add_argument("--user", default="", help="who closes it (--close)")

    def handle(self, *args, **options) -> None:
        day = _day(options["date"])
        if options["close"]:
            self._close(day, options["user"])
        state = day_state(day=day)
        report = {**state.figures, "closed": _closed(state)}
        if options["json"]:
            self.stdout.write(json.dumps(report, sort_keys=True))
            return
        for line in _lines(report):
            self.stdout.write(line)

    def _close(self, day: date, username: str) -> None:
        if not username:
            raise CommandError("--close needs --user USERNAME (a Finance user)")
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user {username!r}") from None
        try:
            day_close(day=day, user=user)
        except DayCloseError as exc:
            raise CommandError(exc.message) from exc


def _day(text: str) -> date:
    # fromisoformat alone also takes 20261120 and week dates (2026-W47-5).
    try:
        day = date.fromisoformat(text) if _DAY_FORMAT.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None:
        raise CommandError(f"--date {text!r} is not a date (YYYY-MM-DD)")
    if day > nairobi_today():
        raise CommandError(f"--date {text} is in the future")
    if day < FIRST_DAY:
        raise CommandError(f"--date {text} is before {FIRST_DAY.isoformat()}")
    return day


def _closed(state) -> dict | None:
    if state.close is None:
        return None
    return {
        "by": state.close.closed_by.get_username(),
        "at": state.close.closed_at.isoformat(),
        "changes": state.changes,
    }


def _lines(report: dict) -> list[str]:
    money, diff = report["money_in"], report["differences"]
    statement = report["statement"]
    lines = [f"day: {report['day']} (Africa/Nairobi)"]
    for channel in ("stk", "paybill", "till", "total"):
        lines.append(_counted(f"money in {channel}", money[channel]))
    lines += [
        _counted("refunds out", report["refunds_out"]),
        _counted("fees", report["fees"]),
        _counted("statement paid in", statement["paid_in"])
        if statement
        else "statement: none imported",
        f"difference money in: {_shown(diff['money_in'])}",
        f"difference refunds out: {_shown(diff['refunds_out'])}",
    ]
    items = report["open_items"]
    for kind in OPEN_ITEM_KINDS:
        lines.append(_counted(f"open {kind.replace('_', ' ')}", items[kind]))
    closed = report["closed"]
    lines.append(
        f"closed: by {closed['by']} at {closed['at']}" if closed else "closed: no"
    )
    lines += [
        f"changed since closed: {change}"
        for change in (closed or {}).get("changes", [])
    ]
    return lines


def _counted(label: str, total: dict) -> str:
    return f"{label}: {total['count']} (KES {total['amount']:,})"


def _shown(value: int | None) -> str:
    return "none (no statement covers the day)" if value is None else f"KES {value:,}"
