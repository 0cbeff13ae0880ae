"""One id per request, on every log line of the request and of the Celery
tasks it queues, and echoed in the ``X-Request-ID`` response header.

A proxy's ``X-Request-ID`` is kept when it looks sane; otherwise a new one
is made. Tasks carry it in their message headers (``before_task_publish``)
and restore it while they run (``task_prerun`` / ``task_postrun``); the
Celery app connects those handlers (``hakiyetu/celery.py``).
"""

import logging
import re
import uuid
from contextvars import ContextVar, Token

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
TASK_HEADER = "request_id"
_SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)
_task_tokens: dict[str, Token] = {}


def current_request_id() -> str | None:
    """The id of the request (or task) this code runs for, if any."""
    return _current.get()


def request_id_accept(candidate: str | None) -> str:
    """``candidate`` when it is 1-64 of ``[A-Za-z0-9._-]``, else a new id."""
    if candidate and _SANE.fullmatch(candidate):
        return candidate
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Set the request's id for its whole handling and echo it back."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_accept(request.headers.get(HEADER))
        request.request_id = request_id
        # Not reset on the way out: Django logs a 4xx/5xx ("Not Found: ...")
        # after the middlewares return, and that line belongs to the
        # request. It is forgotten when the response is closed.
        _current.set(request_id)
        try:
            response = self.get_response(request)
        except BaseException:
            _current.set(None)
            raise
        response[HEADER] = request_id
        response._resource_closers.append(_forget)
        return response


def _forget() -> None:
    _current.set(None)


class RequestIdFilter(logging.Filter):
    """Give every record a ``request_id`` attribute: the current one, else
    ``default`` (None for JSON lines, "-" for text)."""

    def __init__(self, default: str | None = None) -> None:
        super().__init__()
        self.default = default

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = _current.get() or self.default
        return True


# --- Celery signal handlers ---------------------------------------------------


def task_headers_add_request_id(headers: dict | None = None, **_: object) -> None:
    """``before_task_publish``: a task queued during a request carries its
    id in the message headers."""
    request_id = _current.get()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


def task_request_id_restore(task=None, task_id: str = "", **_: object) -> None:
    """``task_prerun``: run the task under the id it was queued with. An
    eager task (run inside the request) keeps the request's own."""
    request = getattr(task, "request", None)
    request_id = _task_request_id(request)
    if not request_id and getattr(request, "is_eager", False):
        return
    _task_tokens[task_id] = _current.set(request_id)


def _task_request_id(request) -> str | None:
    """The id in a task's headers: top-level in a worker's message (as
    ``before_task_publish`` put it), under ``headers`` for ``apply()``."""
    if request is None:
        return None
    nested = getattr(request, "headers", None) or {}
    return request.get(TASK_HEADER) or nested.get(TASK_HEADER)


def task_request_id_clear(task_id: str = "", **_: object) -> None:
    """``task_postrun``: forget the task's id."""
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        _current.reset(token)
