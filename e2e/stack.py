"""The product's real processes, started on free ports for end-to-end tests.

``start_stack`` runs, each in its own process group: the Daraja simulator
(``python -m daraja_simulator``), the web server (``runserver
--noreload``), a Celery worker (threads pool) and Celery beat. They share a
private ``VAR_DIR`` under a temporary folder: their own SQLite file (or
their own PostgreSQL database when ``DATABASE_URL`` points at PostgreSQL),
file cache and file-system broker (or a dedicated Redis database number
when the environment gives ``redis://`` URLs). The database is migrated and
seeded with ``seed_demo`` before the servers start. The tests talk to them
over HTTP only: pytest's own test database is invisible to them. Their
environment (settings, private database and broker) is ``e2e/stack_env.py``.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from e2e.stack_env import BASE_DIR, child_env

READY_TIMEOUT = 60.0
# Seconds before the simulator posts a Reversal / Transaction Status result.
RESULT_DELAY = "0.5"
# Redis database number of the e2e processes, away from the suite's own.
E2E_REDIS_DB = os.environ.get("E2E_REDIS_DB", "13")


@dataclass
class Stack:
    """Where the running processes answer, and how to stop them."""

    web_url: str
    simulator_url: str
    var_dir: Path
    log_dir: Path
    # Every web server's URL (web_url is the first); more than one with
    # start_stack(web_servers=N).
    web_urls: list[str] = field(default_factory=list)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    def simulator(self, method: str, path: str, payload: dict | None = None):
        """Call the simulator's control API (``/simulator/...``)."""
        response = requests.request(
            method, f"{self.simulator_url}/simulator/{path}", json=payload, timeout=10
        )
        response.raise_for_status()
        return response.json()

    def manage(
        self, *argv: str, log: str, output: Path | None = None, timeout: float = 600
    ) -> None:
        """Run ``manage.py`` with the processes' environment (same database).

        Its output goes to ``<log>.log`` (stdout to ``output`` if given); a
        failure raises with the log's tail.
        """
        with contextlib.ExitStack() as files:
            err = files.enter_context((self.log_dir / f"{log}.log").open("w"))
            out = files.enter_context(output.open("w")) if output else err
            done = subprocess.run(  # noqa: S603 - our own manage.py
                [sys.executable, "manage.py", *argv],
                cwd=BASE_DIR,
                env=self.env,
                stdout=out,
                stderr=err if output else subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {argv[0]} failed:\n{self.log_tail(log)}")

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM every process group, SIGKILL what is left after 10 s."""
        for proc in self.processes.values():
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=5)
        for cleanup in reversed(self.cleanups):
            cleanup()


def _signal_group(proc: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signum)  # the child leads its own group


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_stack(
    tmp: Path,
    *,
    overrides: dict[str, str] | None = None,
    redis_db: str = E2E_REDIS_DB,
    hosts: int = 1,
    gunicorn: bool = False,
) -> Stack:
    """Migrate, seed and start every process; wait until they answer.

    ``overrides`` replaces settings of the processes' environment (e.g.
    ``MPESA_STK_LIFETIME_SECONDS``); ``redis_db`` is the Redis database
    number they use when the environment gives ``redis://`` URLs, so two
    stacks alive at once do not share a broker.

    ``hosts`` > 1 starts that many web servers and workers, as on that many
    machines sharing one database and broker (one beat in all): each web
    server is the callback host of the pushes it makes, and each host's web
    and worker share a prometheus-client folder. ``gunicorn`` serves the web
    with ``deploy/gunicorn.conf.py`` (two workers each) instead of runserver.
    """
    web_ports = [free_port() for _ in range(hosts)]
    sim_port = free_port()
    var_dir, log_dir = tmp / "var", tmp / "logs"
    var_dir.mkdir(parents=True)
    log_dir.mkdir(parents=True)
    web_urls = [f"http://127.0.0.1:{port}" for port in web_ports]
    stack = Stack(
        web_url=web_urls[0],
        web_urls=web_urls,
        simulator_url=f"http://127.0.0.1:{sim_port}",
        var_dir=var_dir,
        log_dir=log_dir,
    )
    try:
        stack.env = child_env(stack, redis_db=redis_db) | (overrides or {})
        if hosts > 1:
            # beat and manage.py commands run "on host 1": they count there.
            stack.env["PROMETHEUS_MULTIPROC_DIR"] = str(_metrics_dir(stack, 1))
        _prepare_database(stack)
        _start_all(
            stack, stack.env, sim_port=sim_port, web_ports=web_ports, gunicorn=gunicorn
        )
    except BaseException:
        stack.stop()
        raise
    return stack


def _prepare_database(stack: Stack) -> None:
    stack.manage("migrate", "--noinput", log="migrate")
    stack.manage("seed_demo", log="seed_demo")


def _start_all(
    stack: Stack,
    env: dict[str, str],
    *,
    sim_port: int,
    web_ports: list[int],
    gunicorn: bool = False,
):
    python = sys.executable
    commands = {
        "simulator": (
            [
                *(python, "-m", "daraja_simulator", "--port", str(sim_port)),
                *("--callback-delay", "1", "--stk-lifetime", "10", "--seed", "7"),
                *("--result-delay", RESULT_DELAY),
            ],
            env,
        ),
    }
    several = len(web_ports) > 1
    for host, port in enumerate(web_ports, start=1):
        suffix = str(host) if several else ""
        host_env = _host_env(stack, env, port, host) if several else env
        commands[f"web{suffix}"] = (_web_argv(port, gunicorn), host_env)
        commands[f"worker{suffix}"] = (_worker_argv(f"e2e{suffix}"), host_env)
    commands["beat"] = ([*_celery(), "beat", "-l", "info", "--pidfile="], env)
    for name, (argv, process_env) in commands.items():
        log = (stack.log_dir / f"{name}.log").open("w")
        stack.processes[name] = subprocess.Popen(  # noqa: S603 - fixed argv
            argv,
            cwd=BASE_DIR,
            env=process_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()  # the child keeps its own descriptor
    _wait_until(
        stack, "simulator", lambda: _answers(f"{stack.simulator_url}/simulator/")
    )
    for name in stack.processes:
        if name.startswith("web"):
            url = stack.web_urls[int(name[3:] or 1) - 1]
            _wait_until(stack, name, lambda url=url: _answers(f"{url}/healthz"))
        elif name.startswith("worker"):
            _wait_until(stack, name, lambda n=name: " ready." in stack.log_tail(n, 200))
    _wait_until(stack, "beat", lambda: "beat: Starting" in stack.log_tail("beat", 200))


def _celery() -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "hakiyetu"]


def _web_argv(port: int, gunicorn: bool) -> list[str]:
    if gunicorn:
        return [
            *(sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"),
            *("--bind", f"127.0.0.1:{port}", "--workers", "2", "hakiyetu.wsgi"),
        ]
    return [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]


def _worker_argv(name: str) -> list[str]:
    return [
        *(*_celery(), "worker", "-P", "threads", "-c", "4", "-l", "info"),
        *("-n", f"{name}@%h", "--without-gossip", "--without-mingle"),
    ]


def _metrics_dir(stack: Stack, host: int) -> Path:
    path = stack.var_dir / f"metrics-host{host}"
    path.mkdir(exist_ok=True)
    return path


def _host_env(stack: Stack, env: dict[str, str], port: int, host: int) -> dict:
    """One "machine": its web server receives the callbacks and results of
    what it (and its worker) sends, and its processes share one metrics
    folder, as web and workers of one host do (docs/operations.md)."""
    web = f"http://127.0.0.1:{port}"
    metrics_dir = _metrics_dir(stack, host)
    secret, result_secret = env["MPESA_CALLBACK_SECRET"], env["MPESA_RESULT_SECRET"]
    return env | {
        "MPESA_CALLBACK_URL": f"{web}/api/payment/callback/{secret}",
        "MPESA_RESULT_URL": f"{web}/api/payment/result/{result_secret}",
        "MPESA_QUEUE_TIMEOUT_URL": f"{web}/api/payment/timeout/{result_secret}",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _wait_until(stack: Stack, name: str, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    proc = stack.processes[name]
    while time.monotonic() < deadline:
        if ready():
            return
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited early:\n{stack.log_tail(name)}")
        time.sleep(0.2)
    raise RuntimeError(
        f"{name} not ready in {READY_TIMEOUT} s:\n{stack.log_tail(name)}"
    )
