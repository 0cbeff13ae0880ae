import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/api/bookings/x/", "/api/nothing-here", "/api/payments/x/"]
)
def test_unmatched_api_url_answers_the_json_error_shape(client, path):
    # when
    response = client.get(path)
    # then
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


def test_unmatched_page_outside_the_api_keeps_html(client):
    # when
    response = client.get("/no-such-page/")
    # then
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")
