"""The ``LOGGING`` dict: plain text or one JSON object per line
(``LOG_FORMAT``), phones and secrets masked, every record carrying the
request id."""

PLAIN = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"
FORMATS = ("text", "json")


def logging_config(*, log_format: str, level: str) -> dict:
    """``settings.LOGGING`` for ``log_format`` (text or json) at ``level``.

    Django's own loggers ("django", "django.server") get our handler
    instead of theirs, DEBUG on or off: request paths carry the callback
    secret, so every line goes through the masking filter.
    """
    if log_format not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}")
    formatter = "json" if log_format == "json" else "plain"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "mask_phones": {"()": "core.logging_filters.MaskPhoneNumbers"},
            "request_id": {
                "()": "core.request_id.RequestIdFilter",
                "default": None if log_format == "json" else "-",
            },
        },
        "formatters": {
            "plain": {"format": PLAIN},
            "json": {
                "()": "core.json_logs.RedactingJsonFormatter",
                "fmt": JSON_FIELDS,
                "rename_fields": {"asctime": "time", "levelname": "level"},
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": formatter,
                "filters": ["request_id", "mask_phones"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "django.server": {
                "handlers": ["console"],
                "level": "INFO",
                "propagate": False,
            },
        },
    }
