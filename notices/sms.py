"""SMS backends, chosen by ``SMS_BACKEND``: console, file, africastalking.

Each backend's ``send(to=..., message=...)`` raises on failure. Phone
numbers are masked in every log line.
"""

import logging
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from core.phone import mask_phone

logger = logging.getLogger(__name__)


class SmsSendError(Exception):
    """The SMS provider refused the message or could not be reached."""


def send_sms(*, to: str, message: str) -> None:
    """Send ``message`` to the MSISDN ``to`` with the configured backend."""
    backend = settings.SMS_BACKEND
    if backend == "console":
        _console(to=to, message=message)
    elif backend == "file":
        _file(to=to, message=message)
    elif backend == "africastalking":
        _africastalking(to=to, message=message)
    else:
        raise ImproperlyConfigured(f"Unknown SMS_BACKEND {backend!r}.")


def _console(*, to: str, message: str) -> None:
    logger.info("SMS to %s: %s", mask_phone(to), message)


def _file(*, to: str, message: str) -> None:
    """One file per SMS in ``SMS_FILE_DIR`` (full number: a local outbox)."""
    folder = Path(settings.SMS_FILE_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
    path = folder / f"{stamp}-{uuid.uuid4().hex[:8]}.txt"
    path.write_text(f"To: {to}\n\n{message}\n", encoding="utf-8")


def _africastalking(*, to: str, message: str) -> None:
    """Africa's Talking SMS; the SDK is imported only here."""
    from africastalking.SMS import SMSService

    username = settings.AFRICASTALKING_USERNAME
    api_key = settings.AFRICASTALKING_API_KEY
    if not username or not api_key:
        raise ImproperlyConfigured(
            "SMS_BACKEND=africastalking needs AFRICASTALKING_USERNAME and "
            "AFRICASTALKING_API_KEY."
        )
    service = SMSService(username, api_key)
    sender = settings.AFRICASTALKING_SENDER_ID or None
    try:
        answer = service.send(message, [f"+{to}"], sender)
    except Exception as exc:
        raise SmsSendError(f"Africa's Talking: {type(exc).__name__}") from exc
    recipients = answer.get("SMSMessageData", {}).get("Recipients", [])
    if not recipients or recipients[0].get("status") != "Success":
        status = recipients[0].get("status") if recipients else "no recipient"
        raise SmsSendError(f"Africa's Talking refused the SMS: {status}")
