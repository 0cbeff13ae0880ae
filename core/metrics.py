"""The application's Prometheus metrics: definitions and the counters'
one-line helpers.

Counters and histograms live per process. Under gunicorn and Celery set
``PROMETHEUS_MULTIPROC_DIR`` (an empty folder, wiped at start) before the
processes start: each process then writes its values to files there and
``/metrics`` adds them up (``observability.exposition``). Gauges read from
the database are computed at scrape time by
``observability.collector`` and never stored per process.

Imports only ``prometheus_client``: payments code calls these helpers,
core never imports payments.
"""

from prometheus_client import Counter, Histogram

PAYMENTS = Counter(
    "hakiyetu_payments",
    "Payments that reached a status (one per transition into it).",
    ["status"],
)
CALLBACKS = Counter(
    "hakiyetu_callbacks",
    "Requests Daraja posted to us, by kind and what became of them.",
    ["kind", "disposition"],
)
DARAJA_REQUESTS = Counter(
    "hakiyetu_daraja_requests",
    "Requests we sent to Daraja, by API and outcome.",
    ["api", "outcome"],
)
DARAJA_REQUEST_SECONDS = Histogram(
    "hakiyetu_daraja_request_seconds",
    "Time from sending a request to Daraja to its answer (or failure).",
    ["api"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60),
)
PAYMENT_SETTLE_SECONDS = Histogram(
    "hakiyetu_payment_settle_seconds",
    "Time from Daraja accepting a push to the payment's final state.",
    buckets=(5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1800, 3600),
)


def count_payment_status(*, status: str, settle_seconds: float | None) -> None:
    """A payment reached ``status``; ``settle_seconds`` when that status is
    final and the payment had been accepted by Daraja."""
    PAYMENTS.labels(status=status).inc()
    if settle_seconds is not None:
        PAYMENT_SETTLE_SECONDS.observe(max(settle_seconds, 0.0))


def count_callback(*, kind: str, disposition: str) -> None:
    """One request from Daraja (``kind``: stk, c2b_validation,
    c2b_confirmation, result or timeout) and what became of it."""
    CALLBACKS.labels(kind=kind, disposition=str(disposition)).inc()


def count_daraja_request(*, api: str, outcome: str, seconds: float) -> None:
    """One request to Daraja (``outcome``: ok, http_error, timeout or
    connection_error) and how long it took."""
    DARAJA_REQUESTS.labels(api=api, outcome=outcome).inc()
    DARAJA_REQUEST_SECONDS.labels(api=api).observe(max(seconds, 0.0))
