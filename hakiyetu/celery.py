"""The Celery application. Configuration lives in settings (``CELERY_*``)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hakiyetu.settings")

app = Celery("hakiyetu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
