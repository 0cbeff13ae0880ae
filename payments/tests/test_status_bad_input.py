"""Bad CheckoutRequestIDs in the status URL are a 404, never a 500."""

import pytest

from bookings.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "checkout_request_id", ["ws_CO_%00x", "ws_CO_" + "x" * 300, "%ED%A0%80"]
)
def test_status_with_an_impossible_checkout_id_is_a_json_404(
    api_client, checkout_request_id
):
    # given: PostgreSQL refuses NUL in a query; no id is this long
    api_client.force_authenticate(UserFactory())
    # when
    response = api_client.get(f"/api/payment/mpesa/status/{checkout_request_id}")
    # then
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
