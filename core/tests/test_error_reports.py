"""The DEBUG error page shows no secret, even for a crash on the callback."""

import pytest
from django.test import Client

from payments.tests.conftest import CALLBACK_SECRET, callback_url
from payments.tests.payloads import as_bytes, success_callback

pytestmark = pytest.mark.django_db


@pytest.fixture
def crashing_callback(monkeypatch):
    """A failure inside the callback view, after the secret was accepted."""

    def _crash(**kwargs):
        raise RuntimeError("the database exploded")

    monkeypatch.setattr("payments.api.views.payment_callback_intake", _crash)


@pytest.mark.parametrize("accept", ["*/*", "application/json"])
def test_the_debug_500_page_for_a_callback_shows_no_secret(
    settings, crashing_callback, accept
):
    # given
    settings.DEBUG = True
    settings.MPESA_CALLBACK_SECRET = CALLBACK_SECRET
    settings.MPESA_CALLBACK_ALLOWED_IPS = []
    settings.MPESA_PASSKEY = "passkey-never-on-a-page-1234"
    settings.MPESA_CONSUMER_SECRET = "consumer-secret-never-on-a-page"
    client = Client(raise_request_exception=False)
    # when
    response = client.post(
        callback_url(),
        as_bytes(success_callback("ws_CO_1")),
        content_type="application/json",
        headers={"accept": accept},
    )
    # then: Django's technical page, without any secret on it
    page = response.content.decode()
    assert response.status_code == 500
    assert "the database exploded" in page
    assert "/api/payment/callback/" in page
    for secret in (
        CALLBACK_SECRET,
        settings.MPESA_PASSKEY,
        settings.MPESA_CONSUMER_SECRET,
    ):
        assert secret not in page
