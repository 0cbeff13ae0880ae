"""``manage.py daily_close``: the figures as text or one JSON object, the
close from the command line, and bad input as ``CommandError``."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from closing.models import DailyClose
from closing.tests.support import DAY, TODAY, on_day, stk_receipt

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("daily_close", *args, stdout=out)
    return out.getvalue()


def test_daily_close_json_is_one_object_with_the_figures():
    # given
    stk_receipt("TLK6JSON01", at=on_day(9))
    # when
    report = json.loads(_run("--date", DAY.isoformat(), "--json"))
    # then
    assert set(report) == {
        "day",
        "money_in",
        "refunds_out",
        "fees",
        "statement",
        "differences",
        "open_items",
        "closed",
    }
    assert report["money_in"]["stk"] == {"count": 1, "amount": 3000}
    assert report["closed"] is None


def test_daily_close_prints_the_figures_as_text():
    # given
    stk_receipt("TLK6TEXT01", at=on_day(9))
    # when
    text = _run("--date", DAY.isoformat())
    # then
    assert "money in stk: 1 (KES 3,000)" in text
    assert "statement: none imported" in text
    assert "closed: no" in text


def test_daily_close_closes_the_day_as_a_finance_user(finance_user):
    # when
    report = json.loads(
        _run(
            "--date",
            DAY.isoformat(),
            "--close",
            "--user",
            finance_user.username,
            "--json",
        )
    )
    # then
    assert DailyClose.objects.get(day=DAY).closed_by == finance_user
    assert report["closed"]["by"] == finance_user.username


def test_daily_close_refuses_to_close_for_a_user_outside_finance(support_user):
    # when / then
    with pytest.raises(CommandError, match="Only Finance"):
        _run("--date", DAY.isoformat(), "--close", "--user", support_user.username)
    assert DailyClose.objects.exists() is False


@pytest.mark.parametrize(
    "text", ["2026-13-01", "yesterday", "20261120", "2026-W47-5", ""]
)
def test_daily_close_refuses_a_bad_date(text):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        _run("--date", text)


def test_daily_close_refuses_a_future_date():
    with pytest.raises(CommandError, match="future"):
        _run("--date", "2099-01-01")


def test_daily_close_refuses_close_without_a_user():
    with pytest.raises(CommandError, match="--user"):
        _run("--date", DAY.isoformat(), "--close")
    assert DailyClose.objects.exists() is False


def test_daily_close_refuses_to_close_today(finance_user):
    with pytest.raises(CommandError, match="has not ended"):
        _run("--date", TODAY.isoformat(), "--close", "--user", finance_user.username)
