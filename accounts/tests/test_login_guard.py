import pytest

from bookings.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


@pytest.fixture
def staff():
    user = UserFactory(is_staff=True, is_superuser=True)
    user.set_password(PASSWORD)
    user.save()
    return user


def admin_login(client, username, password):
    return client.post("/admin/login/", {"username": username, "password": password})


def test_admin_login_locks_out_after_repeated_failures(client, staff, settings):
    # given
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        assert admin_login(client, staff.username, "wrong").status_code == 200
    # when: even the right password is refused while locked out
    response = admin_login(client, staff.username, PASSWORD)
    # then
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_admin_login_succeeds_below_the_limit_and_clears_the_count(
    client, staff, settings
):
    # given
    settings.LOGIN_FAILURE_LIMIT = 3
    admin_login(client, staff.username, "wrong")
    admin_login(client, staff.username, "wrong")
    # when
    ok = admin_login(client, staff.username, PASSWORD)
    client.logout()
    after = [admin_login(client, staff.username, "wrong").status_code for _ in range(2)]
    # then
    assert ok.status_code == 302
    assert after == [200, 200]


def test_lockout_is_per_address(client, staff, settings):
    # given
    settings.LOGIN_FAILURE_LIMIT = 2
    for _ in range(2):
        admin_login(client, staff.username, "wrong")
    # when
    elsewhere = client.post(
        "/admin/login/",
        {"username": staff.username, "password": PASSWORD},
        REMOTE_ADDR="198.51.100.7",
    )
    # then
    assert elsewhere.status_code == 302


def test_api_token_login_locks_out_with_the_error_shape(api_client, staff, settings):
    # given
    settings.LOGIN_FAILURE_LIMIT = 2
    body = {"username": staff.username, "password": "wrong"}
    for _ in range(2):
        assert (
            api_client.post("/api/auth/token/", body, format="json").status_code == 400
        )
    # when
    response = api_client.post(
        "/api/auth/token/",
        {"username": staff.username, "password": PASSWORD},
        format="json",
    )
    # then
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"
