"""The checkout page's Paybill box (issue 13, point 10).

The page renders the box (hidden until a booking exists) with the business
number clients type; with no ``MPESA_C2B_SHORT_CODE`` there is nothing to
pay by hand, so there is no box. The browser tests fill and show it.
"""

import pytest

from bookings.tests.factories import ConsultationTypeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client):
    ConsultationTypeFactory()
    client.force_login(UserFactory())
    return client


def test_checkout_page_shows_the_paybill_business_number(signed_in, settings):
    # given
    settings.MPESA_C2B_SHORT_CODE = "600984"

    # when
    html = signed_in.get("/").content.decode()

    # then
    assert 'id="paybill"' in html
    assert 'data-testid="paybill-business">600984<' in html
    assert "Lipa na M-PESA" in html


def test_checkout_page_without_a_paybill_number_has_no_paybill_box(signed_in, settings):
    # given
    settings.MPESA_C2B_SHORT_CODE = ""

    # when
    html = signed_in.get("/").content.decode()

    # then
    assert 'id="paybill"' not in html
    assert "Pay Bill" not in html


def test_signed_out_checkout_page_has_no_paybill_box(client, settings):
    # given
    settings.MPESA_C2B_SHORT_CODE = "600984"

    # when
    html = client.get("/").content.decode()

    # then
    assert 'id="paybill"' not in html
