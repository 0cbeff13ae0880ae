"""``python manage.py run_local``: every process of the product, in the foreground.

Starts the web server, a Celery worker, Celery beat and the Daraja
simulator as child processes, prints where everything is, and stops them
all on Ctrl-C (or when one of them dies). ``make run`` calls it.

``--port`` and ``--simulator-port`` also move ``MPESA_BASE_URL`` and
``MPESA_CALLBACK_URL`` (when they point at this machine) to those ports in
every child's environment, so the web app pushes to this simulator and the
simulator calls this web app back, whatever ports ``.env`` was written for.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import BaseCommand

from hakiyetu.localenv import (
    SIMULATOR_PORT,
    WEB_PORT,
    is_local,
    local_c2b_urls,
    local_result_urls,
    local_urls,
)


@dataclass(frozen=True, slots=True)
class _Process:
    name: str
    argv: list[str]
    env: dict[str, str]


def _child_env(web_port: int, simulator_port: int) -> dict[str, str]:
    """This process's environment, Daraja and callback URLs on the given ports.

    The children read ``.env`` too, but the environment wins over it.
    """
    urls = local_urls(
        settings.MPESA_BASE_URL,
        settings.MPESA_CALLBACK_URL,
        settings.MPESA_CALLBACK_SECRET,
        web_port=web_port,
        simulator_port=simulator_port,
    )
    c2b = local_c2b_urls(
        settings.MPESA_C2B_CONFIRMATION_URL,
        settings.MPESA_C2B_VALIDATION_URL,
        settings.MPESA_C2B_SECRET,
        web_port=web_port,
    )
    results = local_result_urls(
        settings.MPESA_RESULT_URL,
        settings.MPESA_QUEUE_TIMEOUT_URL,
        settings.MPESA_RESULT_SECRET,
        web_port=web_port,
    )
    # The simulator reads MPESA_INITIATOR_PASSWORD and
    # MPESA_B2C_INITIATOR_PASSWORD from the settings, like its other
    # credentials (never on its command line, where ps would show them).
    return {**os.environ, **urls, **c2b, **results}


def _processes(web_port: int, simulator_port: int) -> list[_Process]:
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "hakiyetu"]
    env = _child_env(web_port, simulator_port)
    specs = [
        (
            "simulator",
            [python, "manage.py", "daraja_simulator", "--port", str(simulator_port)],
        ),
        (
            "web",
            [python, "manage.py", "runserver", f"127.0.0.1:{web_port}", "--noreload"],
        ),
        ("worker", [*celery, "worker", "-P", "threads", "-c", "4", "-l", "info"]),
        ("beat", [*celery, "beat", "-l", "info", "--pidfile="]),
    ]
    return [_Process(name, argv, env) for name, argv in specs]


def _wait_for_port(port: int, *, seconds: float) -> bool:
    """Whether something listens on 127.0.0.1:``port`` within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def _start(spec: _Process) -> subprocess.Popen:
    return subprocess.Popen(spec.argv, cwd=settings.BASE_DIR, env=spec.env)  # noqa: S603


class Command(BaseCommand):
    help = "Run web server, Celery worker and beat, and the Daraja simulator."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=WEB_PORT)
        parser.add_argument("--simulator-port", type=int, default=SIMULATOR_PORT)

    def handle(self, *args, **options):
        specs = _processes(options["port"], options["simulator_port"])
        children = [(spec.name, _start(spec)) for spec in specs]
        self._print_banner(options["port"], options["simulator_port"], specs[0].env)
        self._register_c2b_urls(options["simulator_port"], specs[0].env)
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

    def _register_c2b_urls(self, simulator_port: int, env: dict) -> None:
        """Register our C2B URLs with the local simulator, so a Paybill
        payment made there (POST /simulator/c2b/pay) reaches this web app.
        Never with a real Daraja: production registration is one-time."""
        if not is_local(env["MPESA_BASE_URL"]):
            return
        if not _wait_for_port(simulator_port, seconds=20):
            self.stderr.write("simulator not up: C2B URLs not registered")
            return
        argv = [sys.executable, "manage.py", "mpesa_register_c2b_urls"]
        done = subprocess.run(  # noqa: S603 - our own argv
            argv, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            self.stderr.write(f"C2B URLs not registered: {done.stderr.strip()}")

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

    def _print_banner(self, port: int, simulator_port: int, env: dict) -> None:
        base = f"http://127.0.0.1:{port}"
        daraja = env["MPESA_BASE_URL"]
        callback = env["MPESA_CALLBACK_URL"].removesuffix(
            settings.MPESA_CALLBACK_SECRET
        )
        lines = [
            "",
            "Haki Yetu is starting:",
            f"  checkout page   {base}/",
            f"  admin           {base}/admin/",
            f"  API docs        {base}/api/docs/",
            f"  health          {base}/healthz",
            f"  Daraja sim      http://127.0.0.1:{simulator_port}/simulator/",
            f"  pushes go to    {daraja}",
            f"  callbacks to    {callback}<MPESA_CALLBACK_SECRET>",
            f"  Paybill         {settings.MPESA_C2B_SHORT_CODE}: POST "
            f"http://127.0.0.1:{simulator_port}/simulator/c2b/pay",
            "  demo logins     demo-client / hakiyetu-demo (client)",
            "                  demo-staff / hakiyetu-demo (staff, admin)",
            "  test phones     254708374149 pays; 254711000000 cancels",
            "Press Ctrl-C to stop everything.",
            "",
        ]
        self.stdout.write("\n".join(lines))
