"""JSON log lines (python-json-logger) that never carry a phone number or a
secret."""

from typing import Any

from pythonjsonlogger.json import JsonFormatter

from core.logging_filters import redact


class RedactingJsonFormatter(JsonFormatter):
    """One JSON object per line, every string in it masked.

    ``MaskPhoneNumbers`` masks the message and the traceback text, but the
    JSON formatter formats a traceback afresh and adds ``extra`` fields as
    they are (Django's ``request`` object among them, whose text is the
    path with the callback secret): so each value is masked here, and one
    that is not plain JSON is turned into its masked text first.
    """

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: _redacted(value) for key, value in log_data.items()}


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | tuple):
        return [_redacted(item) for item in value]
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))
