"""The daily close pages: Finance only, the figures, the close button."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from closing.models import DailyClose
from closing.tests.support import DAY, TODAY, on_day, paybill_receipt, stk_receipt

pytestmark = pytest.mark.django_db
INDEX_URL = reverse("admin:closing_dailyclose_changelist")


def _day_url(day=DAY) -> str:
    return reverse("admin:closing_day", kwargs={"day": day.isoformat()})


def _close_url(day=DAY) -> str:
    return reverse("admin:closing_day_close", kwargs={"day": day.isoformat()})


def test_the_day_page_shows_finance_the_figures_and_the_close_button(
    client, finance_user
):
    # given
    stk_receipt("TLK7PAGE01", at=on_day(9))
    client.force_login(finance_user)
    # when
    response = client.get(_day_url())
    # then
    assert response.status_code == 200
    text = response.content.decode()
    assert "KES 3,000" in text
    assert 'value="Close this day"' in text
    assert "No statement or Pull Transactions imported" in text
    assert len(re.findall(r'<rect class="bar"', text)) == 30


def test_the_day_page_is_refused_to_staff_outside_finance(client, support_user):
    # given
    client.force_login(support_user)
    # when
    response = client.get(_day_url())
    # then
    assert response.status_code == 403


def test_the_index_is_refused_to_staff_outside_finance(client, support_user):
    # given
    client.force_login(support_user)
    # when
    response = client.get(INDEX_URL)
    # then
    assert response.status_code == 403


def test_the_index_lists_the_last_30_days_with_their_state(client, finance_user):
    # given
    DailyClose.objects.create(
        day=DAY, closed_by=finance_user, closed_at=on_day(9), snapshot={}
    )
    client.force_login(finance_user)
    # when
    response = client.get(INDEX_URL)
    # then
    assert response.status_code == 200
    text = response.content.decode()
    assert text.count("<tr data-day=") == 30
    assert "Closed</span> by" in text
    assert _day_url() in text


def test_finance_closes_the_day_with_the_button(client, finance_user):
    # given
    client.force_login(finance_user)
    # when
    response = client.post(_close_url(), follow=True)
    # then
    assert DailyClose.objects.get(day=DAY).closed_by == finance_user
    text = response.content.decode()
    assert "is closed." in text
    assert "Close this day" not in text


def test_closing_a_closed_day_again_shows_the_error(client, finance_user):
    # given
    client.force_login(finance_user)
    client.post(_close_url())
    # when
    response = client.post(_close_url(), follow=True)
    # then
    assert "already closed by" in response.content.decode()
    assert DailyClose.objects.count() == 1


def test_staff_outside_finance_cannot_close_a_day(client, support_user):
    # given
    client.force_login(support_user)
    # when
    response = client.post(_close_url())
    # then
    assert response.status_code == 403
    assert DailyClose.objects.exists() is False


def test_the_close_url_refuses_get(client, finance_user):
    # given
    client.force_login(finance_user)
    # when
    response = client.get(_close_url())
    # then
    assert response.status_code == 405
    assert DailyClose.objects.exists() is False


def test_the_close_needs_the_csrf_token(finance_user):
    # given
    client = Client(enforce_csrf_checks=True)
    client.force_login(finance_user)
    # when
    response = client.post(_close_url())
    # then
    assert response.status_code == 403
    assert DailyClose.objects.exists() is False


def test_a_closed_day_that_changed_shows_the_warning(client, finance_user):
    # given
    client.force_login(finance_user)
    client.post(_close_url())
    paybill_receipt("TLK7LATER1", amount=800, transacted_at=on_day(20))
    # when
    text = client.get(_day_url()).content.decode()
    # then
    assert "Changed since closed" in text
    assert "money in paybill amount: 0 → 800" in text


@pytest.mark.parametrize("day", ["2026-02-30", "2099-01-01"])
def test_a_day_that_does_not_exist_or_has_not_come_is_404(client, finance_user, day):
    # given
    client.force_login(finance_user)
    # when
    response = client.get(reverse("admin:closing_day", kwargs={"day": day}))
    # then
    assert response.status_code == 404


def test_today_has_no_close_button(client, finance_user):
    # given
    client.force_login(finance_user)
    # when
    text = client.get(_day_url(TODAY)).content.decode()
    # then
    assert "not over yet" in text
    assert 'value="Close this day"' not in text
