"""gunicorn for Haki Yetu: `gunicorn -c deploy/gunicorn.conf.py hakiyetu.wsgi`.

Every value can be overridden from the environment (the same EnvironmentFile
the units read). docs/operations.md explains the numbers.
"""

import multiprocessing
import os

# Behind nginx on a Unix socket (deploy/nginx/hakiyetu.conf); GUNICORN_BIND
# may name 127.0.0.1:8000 instead. Never a public address: nginx buffers slow
# clients, gunicorn's few threads must not.
bind = os.environ.get("GUNICORN_BIND", "unix:/run/hakiyetu/gunicorn.sock")

# gthread: each worker process serves `threads` requests at once. A request
# waiting on Daraja (the STK push) holds a thread, not the CPU, so threads
# cover I/O and processes cover cores.
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", max(2, multiprocessing.cpu_count())))
threads = int(os.environ.get("GUNICORN_THREADS", 4))

# Longer than the slowest request we make on a client's behalf: an STK push
# is a token fetch plus the push, each up to MPESA_CONNECT_TIMEOUT +
# MPESA_READ_TIMEOUT (5 + 30 s by default). A worker killed mid-push leaves
# an `initiated` payment the sweep must resolve; never make this shorter.
_daraja_seconds = float(os.environ.get("MPESA_CONNECT_TIMEOUT", 5)) + float(
    os.environ.get("MPESA_READ_TIMEOUT", 30)
)
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 2 * _daraja_seconds + 15))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
keepalive = 5  # nginx keeps upstream connections open (deploy/nginx)
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 5000))
max_requests_jitter = max_requests // 10

# Access log on stdout (journald), every field masked: request lines carry
# the callback secrets (core/gunicorn_logging.py).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
logger_class = "core.gunicorn_logging.MaskingLogger"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%({x-request-id}o)s"'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def child_exit(server, worker):
    """prometheus-client's multiprocess mode: forget a dead worker's gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
