"""Review (s8): a day in the URL that parses but whose neighbours or
Nairobi midnight do not exist (year 1) is a 500, not a 404."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name", ["admin:closing_day", "admin:closing_day_receipts_csv"]
)
def test_the_first_day_of_year_one_is_a_clear_404(client, finance_user, name):
    # given
    client.force_login(finance_user)
    client.raise_request_exception = False
    url = reverse(name, kwargs={"day": "0001-01-01"})
    # when
    response = client.get(url)
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)
    # then
    assert response.status_code == 404


def test_closing_the_first_day_of_year_one_is_no_500(client, finance_user):
    # given
    client.force_login(finance_user)
    client.raise_request_exception = False
    url = reverse("admin:closing_day_close", kwargs={"day": "0001-01-01"})
    # when
    response = client.post(url)
    # then
    assert response.status_code in (302, 404)


def test_the_command_refuses_the_first_day_of_year_one_clearly():
    # when / then: a CommandError, not an OverflowError traceback
    with pytest.raises(CommandError, match="0001-01-01"):
        call_command("daily_close", "--date", "0001-01-01")


def test_the_first_day_has_no_previous_day_link(client, finance_user):
    # given
    client.force_login(finance_user)
    # when
    response = client.get(reverse("admin:closing_day", kwargs={"day": "2000-01-01"}))
    # then: the page shows, and links no earlier day
    assert response.status_code == 200
    assert response.context["previous_day"] is None
    assert b"/day/1999-12-31/" not in response.content


def test_the_day_before_the_first_is_refused(client, finance_user):
    # given
    client.force_login(finance_user)
    # when
    response = client.get(reverse("admin:closing_day", kwargs={"day": "1999-12-31"}))
    # then
    assert response.status_code == 404
    with pytest.raises(CommandError, match="before 2000-01-01"):
        call_command("daily_close", "--date", "1999-12-31")
