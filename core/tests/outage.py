"""A database outage for tests: the connection pointed at nothing."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path


@contextmanager
def database_unreachable() -> Iterator[None]:
    """Point the default connection at a database that cannot be reached
    (a file in a missing folder on SQLite, a closed port on PostgreSQL),
    so every query fails as in an outage; put it back afterwards.

    The live connection is set aside, not closed: SQLite's in-memory test
    database lives only as long as it. Use with ``transaction=True`` tests
    (connecting again resets the atomic-block bookkeeping).
    """
    saved_settings = dict(connection.settings_dict)
    saved_connection = connection.connection
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent/outage/db.sqlite3"
    else:
        connection.settings_dict.update(HOST="127.0.0.1", PORT="1")
    connection.connection = None
    try:
        yield
    finally:
        if connection.connection is not None:
            connection.connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved_settings)
        connection.connection = saved_connection
        connection.errors_occurred = False


def _plain_django_view(request: HttpRequest) -> HttpResponse:
    """Reads the database outside DRF, as session middleware does."""
    return HttpResponse(str(get_user_model().objects.count()))


# A URLconf for ``pytest.mark.urls``: one plain Django view, under /api/
# and outside it.
urlpatterns = [
    path("api/plain", _plain_django_view),
    path("plain", _plain_django_view),
]
