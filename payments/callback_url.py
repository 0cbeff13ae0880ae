"""Why the configured callback URL cannot receive Daraja's callbacks.

One pure function that ``check --deploy`` and the push service share: a
push sent with an unusable URL is a payment whose result we never hear.
"""

from urllib.parse import urlsplit

# Daraja is known to refuse callback URLs containing these words
# (../shared/daraja.md §2, "CallBackURL rules"), in any case.
FORBIDDEN_WORDS = ("m-pesa", "mpesa", "safaricom", "query", "exec", "exe", "cmd", "sql")


def callback_url_problems(*, url: str, secret: str, environment: str) -> list[str]:
    """What is wrong with ``url`` as the STK ``CallBackURL``; empty if usable.

    Each problem is a phrase naming the setting, never its value: the
    messages reach logs and ``manage.py check`` output.
    """
    if not url:
        return ["MPESA_CALLBACK_URL is not set"]
    problems = []
    lowered = url.lower()
    words = [word for word in FORBIDDEN_WORDS if word in lowered]
    if words:
        # "exec" and "m-pesa" also contain "exe" and "pesa": name the first.
        problems.append(
            f"MPESA_CALLBACK_URL contains {words[0]!r}, a word Daraja filters"
        )
    if any(ch.isspace() for ch in url):
        problems.append("MPESA_CALLBACK_URL contains white space")
    parts = urlsplit(url)
    if environment.lower() == "production" and parts.scheme != "https":
        problems.append("MPESA_CALLBACK_URL is not https (required in production)")
    last_segment = parts.path.rstrip("/").rsplit("/", 1)[-1]
    if not secret or last_segment != secret:
        problems.append("MPESA_CALLBACK_URL does not end in MPESA_CALLBACK_SECRET")
    return problems
