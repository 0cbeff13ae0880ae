"""``python manage.py run_local``: every process of the product, in the foreground.

Starts the web server, a Celery worker, Celery beat and the Daraja
simulator as child processes, prints where everything is, and stops them
all on Ctrl-C (or when one of them dies). ``make run`` calls it.
"""

import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import BaseCommand


@dataclass(frozen=True, slots=True)
class _Process:
    name: str
    argv: list[str]


def _processes(web_port: int, simulator_port: int) -> list[_Process]:
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "hakiyetu"]
    return [
        _Process(
            "simulator",
            [python, "manage.py", "daraja_simulator", "--port", str(simulator_port)],
        ),
        _Process(
            "web",
            [python, "manage.py", "runserver", f"127.0.0.1:{web_port}", "--noreload"],
        ),
        _Process(
            "worker", [*celery, "worker", "-P", "threads", "-c", "4", "-l", "info"]
        ),
        _Process("beat", [*celery, "beat", "-l", "info", "--pidfile="]),
    ]


class Command(BaseCommand):
    help = "Run web server, Celery worker and beat, and the Daraja simulator."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--simulator-port", type=int, default=8765)

    def handle(self, *args, **options):
        children = [
            (spec.name, subprocess.Popen(spec.argv, cwd=settings.BASE_DIR))  # noqa: S603
            for spec in _processes(options["port"], options["simulator_port"])
        ]
        self._print_banner(options["port"], options["simulator_port"])
        stopping = False

        def _stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        try:
            while not stopping:
                dead = [name for name, proc in children if proc.poll() is not None]
                if dead:
                    self.stderr.write(f"{', '.join(dead)} stopped; shutting down")
                    break
                time.sleep(0.5)
        finally:
            self._stop_all(children)

    def _stop_all(self, children) -> None:
        for _, proc in children:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for name, proc in children:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop in time; killing it")
                proc.kill()
        self.stdout.write("all processes stopped")

    def _print_banner(self, port: int, simulator_port: int) -> None:
        base = f"http://127.0.0.1:{port}"
        lines = [
            "",
            "Haki Yetu is starting:",
            f"  checkout page   {base}/",
            f"  admin           {base}/admin/",
            f"  API docs        {base}/api/docs/",
            f"  health          {base}/healthz",
            f"  Daraja sim      http://127.0.0.1:{simulator_port}/simulator/",
            "  demo logins     demo-client / hakiyetu-demo (client)",
            "                  demo-staff / hakiyetu-demo (staff, admin)",
            "  test phones     254708374149 pays; 254711000000 cancels",
            "Press Ctrl-C to stop everything.",
            "",
        ]
        self.stdout.write("\n".join(lines))
