"""Who wants to know about each HTTP request to Daraja (metrics).

The adapter stays free of metrics libraries: ``transport.send`` reports
every request here, and the application installs an observer at start-up
(``PaymentsConfig.ready`` installs ``core.metrics.count_daraja_request``).
"""

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

# Keyword-only: api, outcome (ok, http_error, timeout, connection_error)
# and seconds.
RequestObserver = Callable[..., None]
OK = "ok"
HTTP_ERROR = "http_error"
TIMEOUT = "timeout"
CONNECTION_ERROR = "connection_error"

_observers: list[RequestObserver] = []


def observe_requests(observer: RequestObserver) -> None:
    """Call ``observer`` after every request (installed once per process)."""
    if observer not in _observers:
        _observers.append(observer)


def report_request(*, api: str, outcome: str, seconds: float) -> None:
    """Tell every observer; an observer's failure never breaks a request."""
    for observer in _observers:
        try:
            observer(api=api, outcome=outcome, seconds=seconds)
        except Exception:  # foreign code: contain anything it raises
            logger.exception("Daraja request observer failed for %s", api)
