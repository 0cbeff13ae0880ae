"""A callback sent with ``Transfer-Encoding: chunked`` is read whole.

gunicorn de-chunks the body into ``wsgi.input`` but, as there is no
Content-Length, Django's request stream reads it as empty.
"""

import io

import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections

from payments.api.callback_security import MAX_CALLBACK_BYTES
from payments.models import Payment, PaymentEvent
from payments.tests.conftest import callback_url
from payments.tests.factories import PaymentFactory
from payments.tests.payloads import as_bytes, success_callback

pytestmark = pytest.mark.django_db


@pytest.fixture
def wsgi_app():
    """Django's WSGI handler, without closing the test's connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _post_chunked(app, body: bytes) -> tuple[str, bytes]:
    """POST ``body`` the way gunicorn hands a chunked request to Django."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": callback_url(),
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "196.201.214.200",
        "CONTENT_TYPE": "application/json",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    statuses = []
    chunks = app(environ, lambda status, headers: statuses.append(status))
    return statuses[0], b"".join(chunks)


def test_a_chunked_callback_is_read_whole_and_applied(wsgi_app):
    # given
    payment = PaymentFactory()
    body = as_bytes(success_callback(payment.checkout_request_id))
    # when
    status, _ = _post_chunked(wsgi_app, body)
    # then
    assert status.startswith("200")
    event = PaymentEvent.objects.get(kind=PaymentEvent.Kind.CALLBACK)
    assert event.raw_body == body.decode()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED


def test_a_chunked_callback_over_the_limit_is_refused(wsgi_app):
    # given
    body = b'{"Body": "' + b"x" * MAX_CALLBACK_BYTES + b'"}'
    # when
    status, _ = _post_chunked(wsgi_app, body)
    # then
    assert status.startswith("413")
    assert not PaymentEvent.objects.filter(kind=PaymentEvent.Kind.CALLBACK).exists()
