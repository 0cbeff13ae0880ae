"""Error reports (the DEBUG page, error e-mails) that never show a secret.

Django's ``SafeExceptionReporterFilter`` hides settings by name, but not
``MPESA_CALLBACK_URL`` and not the request itself: the callback's path,
``PATH_INFO``, the view's ``secret`` argument and every ``repr`` of the
request carry ``MPESA_CALLBACK_SECRET`` (on the C2B URLs,
``MPESA_C2B_SECRET``). The filter hides more settings;
the reporter blanks every configured secret in the finished report.
"""

import re

from django.conf import settings
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

# Settings whose values are credentials or contain one.
SECRET_SETTINGS = (
    "MPESA_CALLBACK_SECRET",
    "MPESA_C2B_SECRET",
    "MPESA_RESULT_SECRET",
    "MPESA_INITIATOR_PASSWORD",
    "MPESA_B2C_INITIATOR_PASSWORD",
    "MPESA_PASSKEY",
    "MPESA_CONSUMER_KEY",
    "MPESA_CONSUMER_SECRET",
    "SECRET_KEY",
)
_MIN_LENGTH = 8  # shorter values would blank ordinary words on the page


class SecretSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, also hiding the M-Pesa settings and the secret
    wherever a request value or a frame variable holds it."""

    hidden_settings = re.compile(
        "API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|MPESA_CALLBACK|MPESA_CONSUMER"
        "|MPESA_C2B_CONFIRMATION_URL|MPESA_C2B_VALIDATION_URL"
        "|MPESA_RESULT_URL|MPESA_QUEUE_TIMEOUT_URL",
        flags=re.IGNORECASE,
    )

    def cleanse_setting(self, key, value):
        cleansed = super().cleanse_setting(key, value)
        return blank_secrets(cleansed) if isinstance(cleansed, str) else cleansed

    def get_traceback_frame_variables(self, request, tb_frame):
        return [
            (name, blank_secrets(value) if isinstance(value, str) else value)
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]


class SecretSafeExceptionReporter(ExceptionReporter):
    """The technical 500 page and error e-mail with every secret blanked."""

    def get_traceback_html(self) -> str:
        return blank_secrets(str(super().get_traceback_html()))

    def get_traceback_text(self) -> str:
        return blank_secrets(str(super().get_traceback_text()))


def blank_secrets(text: str) -> str:
    """``text`` with the value of every secret setting replaced."""
    for name in SECRET_SETTINGS:
        value = str(getattr(settings, name, "") or "")
        if len(value) >= _MIN_LENGTH:
            text = text.replace(value, SafeExceptionReporterFilter.cleansed_substitute)
    return text
