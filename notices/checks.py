"""Deploy checks (``manage.py check --deploy``): notices that would only be
printed to a console, or an SMS provider missing its credentials."""

from django.conf import settings
from django.core.checks import Error, Warning, register

_CONSOLE_MAIL = "django.core.mail.backends.console.EmailBackend"


@register(deploy=True)
def check_notice_channels(app_configs, **kwargs) -> list:
    """Warn when e-mail or SMS go to the console in production."""
    problems: list = []
    if settings.EMAIL_BACKEND == _CONSOLE_MAIL:
        problems.append(
            Warning(
                "EMAIL_URL is consolemail://: clients' e-mails are only printed.",
                hint="Set EMAIL_URL=smtp+tls://user:pass@host:587.",
                id="notices.W001",
            )
        )
    if settings.SMS_BACKEND in ("console", "file"):
        problems.append(
            Warning(
                f"SMS_BACKEND is {settings.SMS_BACKEND}: no SMS reaches a phone.",
                hint="Set SMS_BACKEND=africastalking and its credentials.",
                id="notices.W002",
            )
        )
    elif settings.SMS_BACKEND == "africastalking" and not (
        settings.AFRICASTALKING_USERNAME and settings.AFRICASTALKING_API_KEY
    ):
        problems.append(
            Error(
                "SMS_BACKEND=africastalking needs AFRICASTALKING_USERNAME and "
                "AFRICASTALKING_API_KEY.",
                id="notices.E001",
            )
        )
    return problems
