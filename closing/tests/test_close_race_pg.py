"""Two Finance users closing the same day at once, on PostgreSQL: one
close, and the other told the day is already closed."""

import pytest
from django.contrib.auth.models import Permission

from bookings.tests.factories import UserFactory
from closing.exceptions import DayAlreadyClosedError
from closing.models import DailyClose
from closing.services.closing import day_close
from closing.tests.support import DAY, on_day, stk_receipt
from core.tests.concurrency import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _closer():
    """A staff user who may close days (a transactional test's flush
    empties the migration's groups, so the permission is given directly)."""
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="closing", codename="close_day")
    )
    return type(user).objects.get(pk=user.pk)


@pytest.mark.parametrize("repeat", range(3))
def test_two_closes_at_once_close_the_day_once(repeat):
    # given
    stk_receipt(f"TLK8RACE{repeat:02d}", at=on_day(9))
    first, second = _closer(), _closer()
    # when
    errors = run_at_once(
        lambda: day_close(day=DAY, user=first),
        lambda: day_close(day=DAY, user=second),
    )
    # then
    assert len(errors) == 1
    assert isinstance(errors[0], DayAlreadyClosedError)
    assert DailyClose.objects.filter(day=DAY).count() == 1
