"""``day_close``: Finance only, once, past days only; and the warnings of a
closed day whose figures changed later."""

from datetime import timedelta

import pytest

from closing.exceptions import (
    DayAlreadyClosedError,
    DayCloseNotAllowedError,
    DayNotOverError,
)
from closing.models import DailyClose
from closing.services.closing import day_close, day_state
from closing.tests.support import DAY, TODAY, on_day, paybill_receipt, stk_receipt

pytestmark = pytest.mark.django_db


def test_day_close_by_finance_stores_who_when_and_the_figures(finance_user, clock):
    # given
    stk_receipt("TLK3CLOSE1", at=on_day(9))
    # when
    close = day_close(day=DAY, user=finance_user)
    # then
    stored = DailyClose.objects.get(day=DAY)
    assert stored.pk == close.pk
    assert stored.closed_by == finance_user
    assert stored.closed_at == clock
    assert stored.snapshot["money_in"]["total"] == {"count": 1, "amount": 3000}


def test_day_close_refuses_a_user_outside_finance(support_user):
    # when / then
    with pytest.raises(DayCloseNotAllowedError):
        day_close(day=DAY, user=support_user)
    assert DailyClose.objects.exists() is False


def test_day_close_refuses_to_close_a_day_twice(finance_user):
    # given
    day_close(day=DAY, user=finance_user)
    # when / then
    with pytest.raises(DayAlreadyClosedError, match="already closed by"):
        day_close(day=DAY, user=finance_user)
    assert DailyClose.objects.count() == 1


def test_day_close_refuses_a_future_day(finance_user):
    # when / then
    with pytest.raises(DayNotOverError):
        day_close(day=TODAY + timedelta(days=1), user=finance_user)
    assert DailyClose.objects.exists() is False


def test_day_close_refuses_today_which_is_not_over(finance_user):
    # when / then
    with pytest.raises(DayNotOverError, match="has not ended"):
        day_close(day=TODAY, user=finance_user)


def test_day_state_of_an_unchanged_closed_day_has_no_warnings(finance_user):
    # given
    stk_receipt("TLK3SAME01", at=on_day(9))
    day_close(day=DAY, user=finance_user)
    # when
    state = day_state(day=DAY)
    # then
    assert state.is_closed is True
    assert state.changes == []


def test_day_state_warns_of_money_that_arrived_after_the_close(finance_user):
    # given: a Paybill payment of the day recorded after the close
    stk_receipt("TLK3BEFORE", at=on_day(9))
    day_close(day=DAY, user=finance_user)
    paybill_receipt("TLK3AFTER1", amount=500, transacted_at=on_day(18))
    # when
    changes = day_state(day=DAY).changes
    # then
    assert "money in paybill amount: 0 → 500" in changes
    assert "money in total amount: 3000 → 3500" in changes
    assert "open items unallocated count: 0 → 1" in changes


def test_day_state_of_an_open_day_has_no_close():
    # when
    state = day_state(day=DAY)
    # then
    assert state.is_closed is False
    assert state.changes == []
