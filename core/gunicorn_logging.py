"""gunicorn's access log, through the same masking as every other log line.

A request line carries the callback, C2B and result secrets in its path and
may carry phone numbers in a query string; gunicorn writes it before Django
sees the request, so ``deploy/gunicorn.conf.py`` names this logger class.
"""

from gunicorn.glogging import Logger

from core.logging_filters import redact

_NEVER_LOGGED_HEADERS = ("{authorization}i", "{cookie}i", "{x-csrftoken}i")


class MaskingLogger(Logger):
    """gunicorn's logger with every access-log field masked."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in _NEVER_LOGGED_HEADERS:
            if key in atoms:
                atoms[key] = "***"
        return {
            key: redact(value) if isinstance(value, str) else value
            for key, value in atoms.items()
        }
