"""Why the configured callback URL cannot receive Daraja's callbacks.

One pure function that ``check --deploy`` and the push service share: a
push sent with an unusable URL is a payment whose result we never hear.
``url_secret`` makes secrets that never put such a word in a URL
(``python -c "from payments.callback_url import url_secret; print(url_secret())"``).
"""

import secrets
from urllib.parse import urlsplit

# Daraja is known to refuse callback URLs containing these words
# (../shared/daraja.md §2, "CallBackURL rules"), in any case.
FORBIDDEN_WORDS = ("m-pesa", "mpesa", "safaricom", "query", "exec", "exe", "cmd", "sql")


def url_secret(nbytes: int = 24) -> str:
    """A random URL-safe secret for the last segment of a callback, C2B or
    result URL, free of the words Daraja filters: ``token_urlsafe`` alone
    yields one such as ``...Cmd...`` about once in 200 draws, and every
    push sent with that URL is then refused (``callback_url_unusable``)."""
    while True:
        candidate = secrets.token_urlsafe(nbytes)
        lowered = candidate.lower()
        if not any(word in lowered for word in FORBIDDEN_WORDS):
            return candidate


def callback_url_problems(
    *,
    url: str,
    secret: str,
    environment: str,
    setting: str = "MPESA_CALLBACK_URL",
    secret_setting: str = "MPESA_CALLBACK_SECRET",  # noqa: S107 - a name
) -> list[str]:
    """What is wrong with ``url`` as the STK ``CallBackURL`` (or, naming
    other settings, a C2B confirmation or validation URL); empty if usable.

    Each problem is a phrase naming the setting, never its value: the
    messages reach logs and ``manage.py check`` output.
    """
    if not url:
        return [f"{setting} is not set"]
    problems = []
    lowered = url.lower()
    words = [word for word in FORBIDDEN_WORDS if word in lowered]
    if words:
        # "exec" and "m-pesa" also contain "exe" and "pesa": name the first.
        problems.append(f"{setting} contains {words[0]!r}, a word Daraja filters")
    if any(ch.isspace() for ch in url):
        problems.append(f"{setting} contains white space")
    parts = urlsplit(url)
    if environment.lower() == "production" and parts.scheme != "https":
        problems.append(f"{setting} is not https (required in production)")
    last_segment = parts.path.rstrip("/").rsplit("/", 1)[-1]
    if not secret or last_segment != secret:
        problems.append(f"{setting} does not end in {secret_setting}")
    return problems
