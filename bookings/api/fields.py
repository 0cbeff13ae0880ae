"""Serializer fields for the SPA's date and time formats (Africa/Nairobi).

Date rule: ``YYYY-MM-DD`` is taken as is. A datetime string (the SPA sends
``date.toISOString()`` of the day picked at local midnight, e.g.
``2026-12-01T21:00:00.000Z`` for 2 December in Nairobi) is converted to
Africa/Nairobi and its calendar date is used; one without an offset is
read as Nairobi time. Browsers at UTC+4 or more east send the previous
day under this rule, so other clients should send ``YYYY-MM-DD``.
"""

import re
from datetime import date, datetime, time

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.time import NAIROBI

_TIME_24H = re.compile(r"^(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?::00)?$")
_TIME_12H = re.compile(r"^(?P<h>0?[1-9]|1[0-2]):(?P<m>[0-5]\d)\s*(?P<ampm>[AaPp][Mm])$")


def parse_local_date(value: str) -> date | None:
    """The Africa/Nairobi calendar date of ``value``, or None if unreadable."""
    value = value.strip()
    try:
        day = parse_date(value)
        if day is not None:
            return day
        moment = parse_datetime(value.replace("z", "Z"))
    except ValueError:
        return None
    if moment is None:
        return None
    if timezone.is_naive(moment):
        return moment.date()
    try:
        return moment.astimezone(NAIROBI).date()
    except OverflowError:
        return None  # e.g. 9999-12-31T23:59:59-23:59: past the year 9999


def parse_slot_time(value: str) -> time | None:
    """``HH:MM`` (24-hour) or ``h:mm AM/PM``, or None if unreadable."""
    value = value.strip()
    if match := _TIME_24H.match(value):
        return time(int(match["h"]), int(match["m"]))
    if match := _TIME_12H.match(value):
        hour = int(match["h"]) % 12 + (12 if match["ampm"].lower() == "pm" else 0)
        return time(hour, int(match["m"]))
    return None


@extend_schema_field(OpenApiTypes.STR)
class LocalDateField(serializers.Field):
    """A calendar date in Africa/Nairobi (see the module docstring)."""

    default_error_messages = {
        "invalid": "Send a date as YYYY-MM-DD or an ISO 8601 datetime.",
    }

    def to_internal_value(self, data: object) -> date:
        day = parse_local_date(data) if isinstance(data, str) else None
        if day is None:
            self.fail("invalid")
        return day

    def to_representation(self, value: date) -> str:
        return value.isoformat()


@extend_schema_field(OpenApiTypes.STR)
class SlotTimeField(serializers.Field):
    """A wall-clock time, ``HH:MM`` or ``h:mm AM/PM``."""

    default_error_messages = {"invalid": "Send a time as HH:MM or h:mm AM/PM."}

    def to_internal_value(self, data: object) -> time:
        at = parse_slot_time(data) if isinstance(data, str) else None
        if at is None:
            self.fail("invalid")
        return at

    def to_representation(self, value: time) -> str:
        return value.strftime("%H:%M")


def local_start(day: date, at: time) -> datetime:
    """The aware start datetime of a slot picked as day and time."""
    return datetime.combine(day, at, tzinfo=NAIROBI)
