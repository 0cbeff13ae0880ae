"""Capturing what LOG_FORMAT=json writes, through the real LOGGING dict."""

import io
import json
import logging
import logging.config
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

from core.logging_config import logging_config


@contextmanager
def json_log_lines() -> Iterator[list[dict]]:
    """Configure logging as with LOG_FORMAT=json, writing to a buffer; the
    list yielded is filled with one dict per line when the block ends."""
    logging.config.dictConfig(logging_config(log_format="json", level="INFO"))
    buffer = io.StringIO()
    for handler in logging.getLogger().handlers:
        handler.setStream(buffer)
    lines: list[dict] = []
    try:
        yield lines
    finally:
        logging.config.dictConfig(settings.LOGGING)
        raw = buffer.getvalue()
        lines.extend(json.loads(line) for line in raw.splitlines() if line)
        lines.append({"_raw": raw})
