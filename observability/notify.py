"""Sending an alert: Django's mail to ``ALERT_EMAILS`` and/or a JSON
``{"text": ...}`` POST (Slack-compatible) to ``ALERT_WEBHOOK_URL``.

Never raises: a notice that cannot be sent is logged."""

import logging
from smtplib import SMTPException

import requests
from django.conf import settings
from django.core.mail import send_mail

logger = logging.getLogger(__name__)
WEBHOOK_TIMEOUT = (3.05, 5)


def alert_notify(*, subject: str, text: str) -> None:
    """Send ``text`` to every configured channel; log what failed."""
    if not settings.ALERT_EMAILS and not settings.ALERT_WEBHOOK_URL:
        logger.warning("no ALERT_EMAILS or ALERT_WEBHOOK_URL: %s", text)
        return
    if settings.ALERT_EMAILS:
        _mail(subject, text)
    if settings.ALERT_WEBHOOK_URL:
        _post(text)


def _mail(subject: str, text: str) -> None:
    try:
        send_mail(subject, text, None, list(settings.ALERT_EMAILS))
    except (SMTPException, OSError):
        logger.exception("could not e-mail the alert %r", subject)


def _post(text: str) -> None:
    try:
        response = requests.post(
            settings.ALERT_WEBHOOK_URL, json={"text": text}, timeout=WEBHOOK_TIMEOUT
        )
        response.raise_for_status()
    except requests.RequestException as exc:
        # The URL itself is a credential (Slack's hooks): never log it.
        logger.error("could not post the alert to the webhook: %s", type(exc).__name__)
