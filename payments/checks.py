"""System checks on the M-Pesa settings (``manage.py check``)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Warning, register

# Daraja is known to refuse callback URLs containing these words
# (../shared/daraja.md, "CallBackURL rules").
FORBIDDEN_WORDS = ("mpesa", "m-pesa", "safaricom", "query", "exe", "cmd", "sql")


@register()
def check_callback_url(app_configs, **kwargs) -> list[Warning]:
    """Warn about a callback URL Daraja would refuse or that leaks nothing."""
    url = settings.MPESA_CALLBACK_URL
    if not url:
        return [
            Warning(
                "MPESA_CALLBACK_URL is not set; STK pushes cannot be sent.",
                id="payments.W001",
            )
        ]
    problems = []
    lowered = url.lower()
    for word in FORBIDDEN_WORDS:
        if word in lowered:
            problems.append(f"contains {word!r}, which Daraja may refuse")
    if any(ch.isspace() for ch in url):
        problems.append("contains white space")
    parts = urlsplit(url)
    if settings.MPESA_ENVIRONMENT == "production" and parts.scheme != "https":
        problems.append("is not https (required in production)")
    secret = settings.MPESA_CALLBACK_SECRET
    if secret and parts.path.rstrip("/").rsplit("/", 1)[-1] != secret:
        problems.append("does not end with MPESA_CALLBACK_SECRET")
    return [
        Warning(f"MPESA_CALLBACK_URL {problem}.", id="payments.W002")
        for problem in problems
    ]
