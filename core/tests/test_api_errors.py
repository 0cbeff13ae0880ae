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


@pytest.fixture
def outage_client():
    """A client that returns Django's 500 page instead of raising."""
    from django.test import Client

    return Client(raise_request_exception=False)


DB_DOWN_REQUESTS = [
    ("get", "/api/advocates/", None),
    ("get", "/api/advocates/1/slots/?date=2026-12-02&consultation_type=video", None),
    ("get", "/api/bookings/", None),
    ("get", "/api/bookings/1/", None),
    ("post", "/api/documents/consultations/book", {"advocate_id": 1}),
    ("post", "/api/payment/mpesa/stk-push", {"booking_id": 1}),
    ("get", "/api/payment/mpesa/status/ws_CO_1", None),
    ("get", "/api/payments/", None),
    ("post", "/api/auth/token/", {"username": "a", "password": "b"}),
]


PUBLIC_DB_DOWN_REQUESTS = [DB_DOWN_REQUESTS[i] for i in (0, 1, 8)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("method", "path", "body"), PUBLIC_DB_DOWN_REQUESTS)
def test_public_api_endpoints_answer_503_json_while_the_database_is_down(
    outage_client, method, path, body
):
    # given
    from core.tests.outage import database_unreachable

    # when
    with database_unreachable():
        response = getattr(outage_client, method)(
            path, body, content_type="application/json"
        )
    # then
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response["Retry-After"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("method", "path", "body"), DB_DOWN_REQUESTS)
@pytest.mark.parametrize("auth", ["token", "session"])
def test_every_api_endpoint_answers_503_json_while_the_database_is_down(
    outage_client, method, path, body, auth
):
    # given: a signed-in client (token or session), then the database goes
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from core.tests.outage import database_unreachable

    user = get_user_model().objects.create_user("outage", password="x")
    headers = {}
    if auth == "token":
        headers["Authorization"] = f"Token {Token.objects.create(user=user).key}"
    elif auth == "session":
        outage_client.force_login(user)
    # when
    with database_unreachable():
        response = getattr(outage_client, method)(
            path, body, content_type="application/json", headers=headers
        )
    # then
    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "service_unavailable"


@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("core.tests.outage")
def test_database_down_outside_drf_is_a_json_503_under_the_api(outage_client):
    # given
    from core.tests.outage import database_unreachable

    # when: a plain Django view (no DRF exception handler) reads the database
    with database_unreachable():
        response = outage_client.get("/api/plain")
    # then
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"


@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("core.tests.outage")
def test_database_down_outside_the_api_keeps_the_html_500(outage_client):
    # given
    from core.tests.outage import database_unreachable

    # when
    with database_unreachable():
        response = outage_client.get("/plain")
    # then
    assert response.status_code == 500
    assert not response["Content-Type"].startswith("application/json")
