"""Callbacks whose content the database refuses are stored, never spooled.

PostgreSQL refuses a lone surrogate (what a JSON ``"\\ud800"`` escape
decodes to) and NUL in text and jsonb; SQLite takes them. Either way such a
callback is kept as an event with its raw bytes in a storable form and
answered as the malformed callback it is.
"""

import base64

import pytest

from payments.models import Payment, PaymentEvent
from payments.services import spool
from payments.tests.conftest import callback_url
from payments.tests.factories import PaymentFactory
from payments.tests.payloads import as_bytes, success_callback

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _spool_dir(settings, tmp_path):
    settings.CALLBACK_SPOOL_DIR = str(tmp_path / "spool")


def post(client, body: bytes):
    return client.generic("POST", callback_url(), body, content_type="application/json")


def stored_bytes(event: PaymentEvent) -> bytes:
    """The body as received, from its stored (possibly base64) form."""
    if event.raw_body.startswith("base64:"):
        return base64.b64decode(event.raw_body.removeprefix("base64:"))
    return event.raw_body.encode()


def poisoned(checkout_request_id: str, kind: str) -> bytes:
    """A real success callback with one string made unstorable."""
    body = as_bytes(success_callback(checkout_request_id))
    cid = checkout_request_id.encode()
    return {
        "surrogate value": body.replace(b'"29115-', b'"\\ud800-'),
        "surrogate in id": body.replace(cid, cid + b"\\udfff"),
        "surrogate key": body.replace(b'"ResultDesc"', b'"Result\\ud800Desc"'),
        "nul value": body.replace(b"successfully.", b"successfully.\\u0000"),
        "nul key": body.replace(b'"ResultDesc"', b'"Result\\u0000Desc"'),
        "long id": body.replace(cid, cid + b"X" * 200),
        "invalid utf-8": body.replace(b"successfully.", b"successfully.\xff\xed\xa0"),
        "raw nul": body.replace(b"successfully.", b"successfully.\x00"),
    }[kind]


POISONS = [
    "surrogate value",
    "surrogate in id",
    "surrogate key",
    "nul value",
    "nul key",
    "long id",
    "invalid utf-8",
    "raw nul",
]


@pytest.mark.parametrize("kind", POISONS)
def test_unstorable_callback_is_a_stored_400_with_its_raw_bytes(client, kind):
    # given
    payment = PaymentFactory()
    body = poisoned(payment.checkout_request_id, kind)
    # when
    response = post(client, body)
    # then: answered as malformed, kept losslessly, nothing spooled or paid
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_callback"
    event = PaymentEvent.objects.get(kind=PaymentEvent.Kind.CALLBACK)
    assert event.error.startswith("malformed")
    assert stored_bytes(event) == body
    assert not list(spool.spool_dir().glob("*.json"))
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


@pytest.mark.postgres
@pytest.mark.parametrize("kind", ["surrogate value", "nul key"])
def test_postgres_refusal_of_surrogate_and_nul_is_stored_not_spooled(client, kind):
    # given: text PostgreSQL refuses to store in text or jsonb
    payment = PaymentFactory()
    # when
    response = post(client, poisoned(payment.checkout_request_id, kind))
    # then
    assert response.status_code == 400
    event = PaymentEvent.objects.get(kind=PaymentEvent.Kind.CALLBACK)
    assert event.request_body is None
    assert "\\u" in event.raw_body
    assert not list(spool.spool_dir().glob("*.json"))


def test_a_clean_callback_after_a_poisoned_one_still_completes(client):
    # given
    payment = PaymentFactory()
    post(client, poisoned(payment.checkout_request_id, "surrogate value"))
    # when
    response = post(client, as_bytes(success_callback(payment.checkout_request_id)))
    # then
    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED


def test_callback_with_a_forwarded_for_that_is_no_address_is_stored(client, settings):
    # given: behind one proxy, a client-chosen X-Forwarded-For
    settings.MPESA_CALLBACK_TRUSTED_PROXIES = 1
    settings.MPESA_CALLBACK_PROXY_IPS = ["127.0.0.1/32"]
    payment = PaymentFactory()
    # when
    response = client.generic(
        "POST",
        callback_url(),
        as_bytes(success_callback(payment.checkout_request_id)),
        content_type="application/json",
        headers={"X-Forwarded-For": "not-an-address"},
    )
    # then: PostgreSQL's inet column would refuse it; the header keeps it
    assert response.status_code == 200
    event = PaymentEvent.objects.get(kind=PaymentEvent.Kind.CALLBACK)
    assert event.source_ip is None
    assert event.headers["X-Forwarded-For"] == "not-an-address"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED


def test_callback_amount_1e309_is_stored_raw_not_as_json_and_never_a_500(client):
    # given: JSON reads 1e309 as inf, which no JSON column takes
    payment = PaymentFactory()
    body = as_bytes(success_callback(payment.checkout_request_id)).replace(
        b'"Value": 3000.0', b'"Value": 1e309'
    )
    assert b"1e309" in body
    # when
    response = post(client, body)
    # then
    assert response.status_code < 500
    event = PaymentEvent.objects.get(kind=PaymentEvent.Kind.CALLBACK)
    assert event.request_body is None
    assert stored_bytes(event) == body
    payment.refresh_from_db()
    assert payment.status != Payment.Status.COMPLETED
