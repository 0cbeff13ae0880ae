"""The 30-day chart, drawn server-side as SVG."""

import re
from datetime import timedelta

import pytest

from closing.chart import trend_svg
from closing.services.trends import TrendPoint, day_trend
from closing.tests.support import DAY, on_day, payment_started, stk_receipt

pytestmark = pytest.mark.django_db


def test_day_trend_has_30_days_ending_with_the_day():
    # when
    points = day_trend(last_day=DAY)
    # then
    assert len(points) == 30
    assert points[0].day == DAY - timedelta(days=29)
    assert points[-1].day == DAY


def test_day_trend_counts_money_in_and_the_share_of_pushes_that_succeeded():
    # given: two pushes, one completed with its receipt, one failed
    stk_receipt("TLK5TREND1", at=on_day(9))
    payment_started(on_day(10), failed=True)
    # when
    last = day_trend(last_day=DAY)[-1]
    # then
    assert last.money_in == 3000
    assert (last.pushes, last.pushes_completed) == (2, 1)
    assert last.success_percent == 50


def test_trend_svg_draws_30_bars_and_a_point_per_day_with_pushes():
    # given
    points = [
        TrendPoint(DAY - timedelta(days=29 - n), 1000 * n, n % 3, n % 3 // 2)
        for n in range(30)
    ]
    # when
    svg = str(trend_svg(points))
    # then
    assert svg.startswith("<svg")
    assert len(re.findall(r'<rect class="bar"', svg)) == 30
    with_pushes = sum(1 for point in points if point.pushes)
    assert len(re.findall(r'<circle class="point"', svg)) == with_pushes


def test_trend_svg_labels_its_axes():
    # when
    svg = str(trend_svg(day_trend(last_day=DAY)))
    # then
    for label in ("Money in (KES)", "STK pushes succeeded (%)", "Day (Nairobi time)"):
        assert label in svg
    assert "100%" in svg


def test_trend_svg_of_an_empty_month_still_has_a_scale():
    # when
    svg = str(trend_svg(day_trend(last_day=DAY)))
    # then
    assert ">1,000</text>" in svg
