"""Deploy checks for metrics and alerts (``manage.py check --deploy``).

- observability.W001: neither ``METRICS_TOKEN`` nor ``METRICS_ALLOWED_IPS``
  is set: /metrics answers 404 to everyone, Prometheus included.
- observability.W002: ``METRICS_ALLOWED_IPS`` lets any address in, or
  ``METRICS_TOKEN`` is shorter than 32 characters.
- observability.W003: neither ``ALERT_EMAILS`` nor ``ALERT_WEBHOOK_URL`` is
  set: alerts only reach the log.
- observability.W004: ``PROMETHEUS_MULTIPROC_DIR`` is set but is not a
  writable folder: every counter update would fail.
"""

import ipaddress
import os

from django.conf import settings
from django.core.checks import Tags, Warning, register

MIN_TOKEN_LENGTH = 32


@register(Tags.security, deploy=True)
def check_metrics_and_alerts(app_configs, **kwargs) -> list[Warning]:
    """Warnings for an unreachable or unprotected /metrics, and silent alerts."""
    warnings = []
    token, allowed = settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS
    if not token and not allowed:
        warnings.append(
            Warning(
                "/metrics is unreachable: METRICS_TOKEN and METRICS_ALLOWED_IPS "
                "are both unset.",
                hint="Set METRICS_TOKEN (Prometheus sends it as a bearer token) "
                "or METRICS_ALLOWED_IPS.",
                id="observability.W001",
            )
        )
    if any(_is_everyone(entry) for entry in allowed) or (
        token and len(token) < MIN_TOKEN_LENGTH
    ):
        warnings.append(
            Warning(
                "/metrics is barely protected: METRICS_ALLOWED_IPS admits any "
                f"address, or METRICS_TOKEN is under {MIN_TOKEN_LENGTH} characters.",
                hint="List the Prometheus server's address; use a long random token.",
                id="observability.W002",
            )
        )
    if not settings.ALERT_EMAILS and not settings.ALERT_WEBHOOK_URL:
        warnings.append(
            Warning(
                "Alerts reach only the log: ALERT_EMAILS and ALERT_WEBHOOK_URL "
                "are both unset.",
                hint="Set ALERT_EMAILS (with EMAIL_URL) or ALERT_WEBHOOK_URL.",
                id="observability.W003",
            )
        )
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    if folder and not (os.path.isdir(folder) and os.access(folder, os.W_OK)):
        warnings.append(
            Warning(
                f"PROMETHEUS_MULTIPROC_DIR ({folder}) is not a writable folder.",
                hint="Create it (empty) before starting gunicorn and Celery.",
                id="observability.W004",
            )
        )
    return warnings


def _is_everyone(entry: str) -> bool:
    try:
        return ipaddress.ip_network(entry.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False
