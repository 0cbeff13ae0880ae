"""``GET /api/payment/mpesa/status/<CheckoutRequestID>?wait=N`` in the ASGI
service (``hakiyetu/asgi.py``): the request waits on the event loop, not in
a thread, so 200 waiting clients cost no worker.

Each look at the payment is the ordinary status action (same
authentication, rules, 404 and JSON), run in one of a few threads that keep
their own database connection: waiting clients hold neither a thread nor a
connection between looks. It looks once at the start, on each wake-up of
the payment's topic (sent after the commit of its final transition) and at
the re-check interval, and answers when it is final or the wait runs out.
"""

from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connection
from django.http import HttpRequest, HttpResponse
from rest_framework.exceptions import ValidationError

from core.wakeups import wait_until
from payments.api.views import PaymentViewSet, status_wait_seconds
from payments.services.status_wait import status_topic

LOOK_THREADS = 4

_look_threads = ThreadPoolExecutor(LOOK_THREADS, thread_name_prefix="status-look")
_status_once = PaymentViewSet.as_view({"get": "status"}, status_waits_here=False)


def _look(request: HttpRequest, checkout_request_id: str) -> HttpResponse:
    """One run of the status action, rendered (in a look thread)."""
    if not connection.in_atomic_block:
        close_old_connections()  # as around each WSGI request: age, health
    response = _status_once(request, checkout_request_id=checkout_request_id)
    return response.render()


_look_async = sync_to_async(_look, thread_sensitive=False, executor=_look_threads)


def _settled(response: HttpResponse) -> bool:
    """Nothing to wait for: an error (401, 404, 400...) or a final status."""
    return response.status_code != 200 or response.data.get("is_final") is True


async def payment_status_view(
    request: HttpRequest, checkout_request_id: str
) -> HttpResponse:
    """The status answer; with ``?wait=N`` once final or after N seconds."""
    try:
        wait_seconds = status_wait_seconds(request.GET)
    except ValidationError:
        wait_seconds = None  # the action answers 400 once it has authenticated
    if not wait_seconds:
        return await _look_async(request, checkout_request_id)

    async def check() -> tuple[bool, HttpResponse]:
        response = await _look_async(request, checkout_request_id)
        return _settled(response), response

    topic = status_topic(checkout_request_id)
    return await wait_until(topic, check, timeout=wait_seconds)
