"""The ASGI service (``hakiyetu.asgi.application``): the same answers as
the WSGI action, the wait on the event loop between looks through Django.
Django runs each look's view in a thread of its own, so these tests commit
(``transaction=True``)."""

import asyncio
import json
import time

import pytest
from rest_framework.authtoken.models import Token

from bookings.tests.factories import UserFactory
from hakiyetu.asgi import application
from payments.api.status_wait import waited_request, without_wait
from payments.tests.factories import PaymentFactory
from payments.tests.status_wait_support import (  # noqa: F401 (a fixture)
    LateCallback,
    only_the_signal_wakes,
)

pytestmark = pytest.mark.django_db(transaction=True)


class Answer:
    def __init__(self, messages: list[dict]) -> None:
        start = next(m for m in messages if m["type"] == "http.response.start")
        self.status_code = start["status"]
        self.body = b"".join(m.get("body", b"") for m in messages[1:])

    def json(self) -> dict:
        return json.loads(self.body)


def _scope(path: str, query: bytes, headers: list) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def _call(path: str, query: bytes, headers: list) -> Answer:
    scope = _scope(path, query, headers)
    sent: list[dict] = []
    requested = False

    async def receive() -> dict:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client stays until answered
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    await application(scope, receive, send)
    return Answer(sent)


def get(checkout_request_id: str, *, token: str | None, wait: str | None = None):
    """One GET through the ASGI application, in a fresh event loop."""
    query = b"" if wait is None else f"wait={wait}".encode()
    headers = [(b"authorization", f"Token {token}".encode())] if token else []
    path = f"/api/payment/mpesa/status/{checkout_request_id}"
    return asyncio.run(_call(path, query, headers))


def token_of(user) -> str:
    return Token.objects.create(user=user).key


@pytest.mark.usefixtures("only_the_signal_wakes")
def test_asgi_wait_answers_when_a_callback_completes_the_payment():
    # given: the callback comes 0.3 s into a 20 s wait
    payment = PaymentFactory()
    token = token_of(payment.booking.client)
    callback = LateCallback(payment.checkout_request_id, delay=0.3)
    callback.start()
    started = time.monotonic()
    # when
    response = get(payment.checkout_request_id, token=token, wait="20")
    # then
    callback.join()
    assert response.status_code == 200
    assert response.json()["status"] == "completed"
    assert time.monotonic() - started < 10


def test_asgi_wait_runs_out_with_the_current_state():
    # given
    payment = PaymentFactory()
    token = token_of(payment.booking.client)
    # when
    response = get(payment.checkout_request_id, token=token, wait="1")
    # then
    assert response.status_code == 200
    assert response.json()["is_final"] is False


def test_asgi_answers_the_same_with_andwithout_wait():
    # given
    payment = PaymentFactory(completed=True)
    token = token_of(payment.booking.client)
    # when
    at_once = get(payment.checkout_request_id, token=token)
    waited = get(payment.checkout_request_id, token=token, wait="5")
    # then
    assert at_once.status_code == waited.status_code == 200
    assert at_once.body == waited.body
    assert at_once.json()["mpesa_receipt_number"] == payment.mpesa_receipt_number


@pytest.mark.parametrize("wait", ["0", "31", "x"])
def test_asgi_bad_wait_is_a_json_400(wait):
    # given
    payment = PaymentFactory()
    token = token_of(payment.booking.client)
    # when
    response = get(payment.checkout_request_id, token=token, wait=wait)
    # then
    assert response.status_code == 400
    assert "wait" in response.json()["error"]["fields"]


def test_asgi_bad_wait_without_credentials_is_401_first():
    # given
    payment = PaymentFactory()
    # when
    response = get(payment.checkout_request_id, token=None, wait="x")
    # then
    assert response.status_code == 401


def test_asgi_wait_on_another_clients_payment_is_404():
    # given
    payment = PaymentFactory()
    token = token_of(UserFactory())
    # when
    response = get(payment.checkout_request_id, token=token, wait="30")
    # then
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_asgi_wait_on_an_unknown_checkout_id_is_a_json_404():
    # given
    token = token_of(UserFactory())
    # when
    response = get("ws_CO_UNKNOWN", token=token, wait="3")
    # then
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_client_that_leaves_stops_the_wait():
    # given: a pending payment, a client that disconnects after 0.2 s
    payment = PaymentFactory()
    token = token_of(payment.booking.client)
    scope = _scope(
        f"/api/payment/mpesa/status/{payment.checkout_request_id}",
        b"wait=30",
        [(b"authorization", f"Token {token}".encode())],
    )
    sent = []
    calls = 0

    async def receive() -> dict:
        nonlocal calls
        calls += 1
        if calls == 1:
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(0.2)
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    started = time.monotonic()
    # when
    asyncio.run(application(scope, receive, send))
    # then: nothing sent to the gone client, well before the 30 s
    assert sent == []
    assert time.monotonic() - started < 20


def test_a_look_keeps_every_query_argument_but_wait():
    # given
    query = b"format=json&wait=10&x=%20y&empty="
    # when
    kept = without_wait(query)
    # then
    assert kept == b"format=json&x=+y&empty="


def test_only_gets_of_the_status_path_with_a_valid_wait_are_held():
    # given
    status = "/api/payment/mpesa/status/ws_CO_1"
    cases = {
        ("GET", status, b"wait=5"): ("ws_CO_1", 5),
        ("GET", status, b""): None,
        ("GET", status, b"wait=0"): None,  # Django answers the 400
        ("POST", status, b"wait=5"): None,
        ("GET", "/api/payments/", b"wait=5"): None,
    }
    # when
    held = {
        (method, path, query): waited_request(
            {"type": "http", "method": method, "path": path, "query_string": query}
        )
        for method, path, query in cases
    }
    # then
    assert held == cases
