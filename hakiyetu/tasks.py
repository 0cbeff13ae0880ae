"""Operational tasks that belong to no single app."""

from celery import shared_task
from django.utils import timezone


@shared_task
def ping_task() -> str:
    """Answer with the worker's current time; proves the queue works."""
    return timezone.now().isoformat()
