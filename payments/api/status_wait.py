"""``GET /api/payment/mpesa/status/<CheckoutRequestID>?wait=N`` in the ASGI
service (``hakiyetu/asgi.py``): the wait happens here, on the event loop,
outside Django, so a waiting client holds no thread and no database
connection.

Each look at the payment is an ordinary request through Django (all its
middleware, the status action's authentication, rules, 404 and JSON), with
``wait`` taken out of its query so that it answers at once; it lasts
milliseconds. The wrapper looks once at the start, again on each wake-up of
the payment's topic (sent after the commit of its final transition) and at
the re-check interval, and sends the client the look that settled it (an
error, or a final status) or the last one when the wait runs out. A request
whose ``wait`` is not 1-30 goes to Django as it came: the action answers
400 once it has authenticated, as under WSGI.
"""

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from django.http import QueryDict
from rest_framework.exceptions import ValidationError

from core.wakeups import wait_until
from payments.api.views import status_wait_seconds
from payments.services.status_wait import status_topic

# The route of payments/api/urls.py ("status"), on the decoded path.
STATUS_PATH = re.compile(r"^/api/payment/mpesa/status/([^/\x00]{1,64})$")
# Looks running at once per process: each is a thread and a database
# connection while it runs, so a burst (many clients arriving, many
# payments settling) queues here instead of exhausting PostgreSQL.
LOOKS_AT_ONCE = 8

Scope = dict
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class Look:
    """One answer of Django's, kept to be sent (or dropped) later."""

    messages: list[dict] = field(default_factory=list)

    @property
    def status(self) -> int:
        return next(m["status"] for m in self.messages if m["type"].endswith("start"))

    @property
    def settled(self) -> bool:
        """Nothing to wait for: an error (401, 404...) or a final status."""
        if self.status != 200:
            return True
        body = b"".join(m.get("body", b"") for m in self.messages[1:])
        try:
            return json.loads(body).get("is_final") is True
        except ValueError:
            return True  # not the action's JSON: nothing to wait for


def waited_request(scope: Scope) -> tuple[str, int] | None:
    """(CheckoutRequestID, seconds) of a status request with a valid
    ``wait``; None for anything else."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return None
    match = STATUS_PATH.match(scope["path"])
    if match is None:
        return None
    try:
        seconds = status_wait_seconds(QueryDict(scope["query_string"]))
    except ValidationError:
        return None  # Django answers the 400, after authentication
    return (match[1], seconds) if seconds else None


def without_wait(query_string: bytes) -> bytes:
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    return urlencode([(k, v) for k, v in pairs if k != "wait"]).encode("latin-1")


async def _look(app: App, scope: Scope) -> Look:
    """Run one GET through Django and keep its answer."""
    look = Look()
    body_given = False

    async def receive() -> dict:
        nonlocal body_given
        if not body_given:
            body_given = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # no disconnect: the look ends first
        raise AssertionError("unreachable")

    async def send(message: dict) -> None:
        look.messages.append(message)

    await app(dict(scope), receive, send)
    return look


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class StatusWaitMiddleware:
    """ASGI middleware around Django's handler: waits for ``?wait=``."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._looks = asyncio.Semaphore(LOOKS_AT_ONCE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        waited = waited_request(scope)
        if waited is None:
            await self.app(scope, receive, send)
            return
        checkout_request_id, seconds = waited
        look_scope = {**scope, "query_string": without_wait(scope["query_string"])}

        async def check() -> tuple[bool, Look]:
            async with self._looks:
                look = await _look(self.app, look_scope)
            return look.settled, look

        answer = asyncio.create_task(
            wait_until(status_topic(checkout_request_id), check, timeout=seconds)
        )
        gone = asyncio.create_task(_until_disconnect(receive))
        await asyncio.wait({answer, gone}, return_when=asyncio.FIRST_COMPLETED)
        gone.cancel()
        if not answer.done():  # the client left: stop looking
            answer.cancel()
            return
        for message in answer.result().messages:
            await send(message)
