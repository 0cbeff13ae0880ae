"""WSGI entry point (gunicorn hakiyetu.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hakiyetu.settings")

application = get_wsgi_application()
