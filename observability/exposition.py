"""The /metrics body: the processes' counters plus the database gauges."""

import os

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from observability.collector import DatabaseCollector

_database = CollectorRegistry(auto_describe=False)
_database.register(DatabaseCollector())


def metrics_text() -> bytes:
    """The Prometheus text exposition.

    With ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn, Celery), the counters
    and histograms of every process that wrote to that folder, added up;
    otherwise this process's own (and its process and platform metrics).
    """
    return generate_latest(_process_registry()) + generate_latest(_database)


def _process_registry() -> CollectorRegistry:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=folder)
    return registry
