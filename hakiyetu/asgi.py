"""ASGI entry point: the service that answers ``?wait=`` status requests
(``uvicorn hakiyetu.asgi:application``, deploy/systemd/hakiyetu-asgi.service).

Django's handler, wrapped in ``StatusWaitMiddleware``: a status request that
waits is held on the event loop between its short looks through Django;
every other request is Django's as usual. ``CONN_MAX_AGE`` is forced to 0
here, before the settings are read (Django's advice under ASGI: a kept
connection would stay with the thread that opened it), whatever the
environment says: each look's connection is closed at its end.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hakiyetu.settings")
os.environ["CONN_MAX_AGE"] = "0"

django_application = get_asgi_application()

from payments.api.status_wait import StatusWaitMiddleware  # noqa: E402 (after setup)

application = StatusWaitMiddleware(django_application)
