import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from bookings.models import Advocate, ConsultationType, WeeklyAvailability

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, ...]:
    return (
        get_user_model().objects.count(),
        Advocate.objects.count(),
        ConsultationType.objects.count(),
        WeeklyAvailability.objects.count(),
    )


def test_seed_demo_creates_users_advocates_and_prices(settings):
    # given
    settings.DEBUG = True
    # when
    call_command("seed_demo")
    # then
    assert authenticate(username="demo-client", password="hakiyetu-demo") is not None
    staff = authenticate(username="demo-staff", password="hakiyetu-demo")
    assert staff.is_staff is True
    assert ConsultationType.objects.filter(
        code="video", duration=30, price=3000
    ).exists()
    assert Advocate.objects.filter(active=True).count() >= 2


def test_seed_demo_gives_each_advocate_a_week_of_hours(settings):
    # given
    settings.DEBUG = True
    # when
    call_command("seed_demo")
    # then
    for advocate in Advocate.objects.all():
        weekdays = set(advocate.availability.values_list("weekday", flat=True))
        assert len(weekdays) >= 5


def test_seed_demo_is_idempotent(settings):
    # given
    settings.DEBUG = True
    call_command("seed_demo")
    before = _counts()
    # when
    call_command("seed_demo")
    # then
    assert _counts() == before


def test_seed_demo_is_refused_when_debug_is_off(settings):
    # given
    settings.DEBUG = False
    # when / then
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert get_user_model().objects.count() == 0
