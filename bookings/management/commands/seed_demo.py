"""``python manage.py seed_demo``: demo advocates, prices and users, locally.

Idempotent: running it again updates the same rows. Refused when DEBUG is
off, because it creates users with a published password.
"""

from datetime import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from bookings.demo_accounts import DEMO_PASSWORD, DEMO_USERS
from bookings.models import (
    Advocate,
    ConsultationKind,
    ConsultationType,
    PracticeArea,
    Weekday,
    WeeklyAvailability,
)

EVERY_DAY = list(Weekday)
WEEKDAYS = [d for d in Weekday if d <= Weekday.FRIDAY]
# (name, practice areas, bio, days, hours, offers as (kind, minutes, KES)).
DEMO_ADVOCATES = (
    (
        "Wanjiku Kamau",
        ["Family law", "Succession"],
        "Advocate of the High Court of Kenya; family and succession matters.",
        EVERY_DAY,
        [(time(8), time(13)), (time(14), time(20))],
        [
            (ConsultationKind.VIDEO, 30, 3000),
            (ConsultationKind.VIDEO, 60, 5500),
            (ConsultationKind.PHONE, 30, 2500),
        ],
    ),
    (
        "Otieno Odhiambo",
        ["Land and property", "Conveyancing"],
        "Land disputes, title searches and sale agreements.",
        WEEKDAYS,
        [(time(9), time(17))],
        [
            (ConsultationKind.VIDEO, 30, 3000),
            (ConsultationKind.IN_PERSON, 60, 7000),
        ],
    ),
    (
        "Amina Hassan",
        ["Employment", "Commercial"],
        "Employment contracts, unfair dismissal and small-business law.",
        EVERY_DAY,
        [(time(10), time(18))],
        [
            (ConsultationKind.VIDEO, 30, 3000),
            (ConsultationKind.PHONE, 60, 4500),
        ],
    ),
)


class Command(BaseCommand):
    help = "Load demo advocates, prices, availability and users (DEBUG only)."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates users with a published password and is for "
                "local use only; it refuses to run with DEBUG off."
            )
        with transaction.atomic():
            for username, flags in DEMO_USERS:
                self._seed_user(username, flags)
            for spec in DEMO_ADVOCATES:
                self._seed_advocate(*spec)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(DEMO_ADVOCATES)} advocates; users "
                f"{', '.join(name for name, _ in DEMO_USERS)} "
                f"(password {DEMO_PASSWORD})."
            )
        )

    def _seed_user(self, username: str, flags: dict) -> None:
        user, _ = get_user_model().objects.update_or_create(
            username=username, defaults={**flags, "is_active": True}
        )
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])

    def _seed_advocate(self, name, areas, bio, days, hours, offers) -> None:
        advocate, _ = Advocate.objects.update_or_create(
            name=name,
            defaults={"bio": bio, "active": True, "email": _demo_email(name)},
        )
        advocate.practice_areas.set(
            [PracticeArea.objects.get_or_create(name=area)[0] for area in areas]
        )
        for kind, minutes, price in offers:
            ConsultationType.objects.update_or_create(
                advocate=advocate,
                code=kind,
                duration=minutes,
                defaults={"price": price, "active": True},
            )
        # Hours are replaced wholesale so that edits to this file apply.
        advocate.availability.all().delete()
        WeeklyAvailability.objects.bulk_create(
            WeeklyAvailability(
                advocate=advocate, weekday=day, start_time=start, end_time=end
            )
            for day in days
            for start, end in hours
        )


def _demo_email(name: str) -> str:
    """``wanjiru.kamau@advocates.hakiyetu.local`` for "Wanjiru Kamau"."""
    local = ".".join(part.strip(".,").lower() for part in name.split())
    return f"{local}@advocates.hakiyetu.local"
