"""The Celery application. Configuration lives in settings (``CELERY_*``)."""

import os

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun

from core.request_id import (
    task_headers_add_request_id,
    task_request_id_clear,
    task_request_id_restore,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hakiyetu.settings")

app = Celery("hakiyetu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# A task queued during a request logs with that request's id.
before_task_publish.connect(task_headers_add_request_id, weak=False)
task_prerun.connect(task_request_id_restore, weak=False)
task_postrun.connect(task_request_id_clear, weak=False)
