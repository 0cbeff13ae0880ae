"""ASGI entry point: the service that answers ``?wait=`` status requests
(``uvicorn hakiyetu.asgi:application``, deploy/systemd/hakiyetu-asgi.service).

It serves every URL, but routes through ``hakiyetu.asgi_urls``, where the
status endpoint is an async view; gunicorn (WSGI) keeps serving the rest.
"""

import os

import django
from django.core.handlers.asgi import ASGIHandler, ASGIRequest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hakiyetu.settings")
django.setup(set_prefix=False)

ASGI_URLCONF = "hakiyetu.asgi_urls"


class WaitingASGIRequest(ASGIRequest):
    """A request resolved against the ASGI URLs (Django reads
    ``request.urlconf`` before it resolves the path)."""

    urlconf = ASGI_URLCONF


class WaitingASGIHandler(ASGIHandler):
    request_class = WaitingASGIRequest


application = WaitingASGIHandler()
