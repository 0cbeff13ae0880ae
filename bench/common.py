"""Shared plumbing of the benchmarks: environment, database, machine, server.

Every benchmark owns a PostgreSQL database (dropped and created afresh,
then migrated) and runs Django with production-like settings (DEBUG off)
that are safe on loopback: no HTTPS redirect, 127.0.0.1 as the host.
"""

import os
import platform
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
OUT_DIR = ROOT / "var" / "bench"
PG_ADMIN_URL = os.environ.get(
    "BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
CALLBACK_SECRET = "bench-callback-secret-0123456789abcdef"  # noqa: S105 (local bench)


def bench_env(database: str, **overrides: str) -> dict[str, str]:
    """The environment of every process of one benchmark run."""
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    env = {
        "DATABASE_URL": f"{base}/{database}",
        "SECRET_KEY": "bench-not-secret-" + "x" * 40,
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CACHE_URL": "redis://127.0.0.1:6379/9",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/10",
        "MPESA_CALLBACK_SECRET": CALLBACK_SECRET,
        "MPESA_CALLBACK_ALLOWED_IPS": "",
        "MPESA_VERIFY_CALLBACKS": "0",
        "LOG_LEVEL": "WARNING",
        "VAR_DIR": str(OUT_DIR / "var"),
    }
    env.update(overrides)
    return env


def setup_django(env: dict[str, str]) -> None:
    """Configure this process with ``env`` and start Django."""
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hakiyetu.settings")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def recreate_database(name: str) -> None:
    """Drop and create the benchmark's own database (never another one)."""
    if not name.startswith("hky_bench"):
        raise SystemExit(f"refusing to drop {name!r}: not a hky_bench* database")
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def flush_redis_dbs(*numbers: int) -> None:
    """Empty the benchmark's Redis databases (cache and broker)."""
    import redis

    for number in numbers:
        redis.Redis(host="127.0.0.1", port=6379, db=number).flushdb()


def machine_lines() -> list[str]:
    """nproc, CPU model, memory, PostgreSQL and software versions."""
    import django
    from django.db import connection

    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            mem_kib = int(line.split()[1])
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    return [
        f"nproc {len(os.sched_getaffinity(0))} ({os.cpu_count()} online), {cpu}",
        f"memory {mem_kib / 1024 / 1024:.1f} GiB, load {os.getloadavg()[0]:.2f}",
        f"PostgreSQL {pg_version}, Python {platform.python_version()}, "
        f"Django {django.get_version()}, {platform.system()} {platform.release()}",
    ]


def print_machine() -> None:
    print("Machine:")
    for line in machine_lines():
        print(f"  {line}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class Gunicorn:
    """``gunicorn <app>`` (ours by default, or the floor's) on loopback,
    stopped on exit."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        workers: int,
        worker_class: str,
        threads: int,
        app: str = "hakiyetu.wsgi",
        cwd: Path = ROOT,
        log_name: str = "gunicorn.log",
    ) -> None:
        self.port = free_port()
        self.cwd = cwd
        self.log_name = log_name
        self.argv = [
            str(VENV_BIN / "gunicorn"),
            app,
            f"--workers={workers}",
            f"--worker-class={worker_class}",
            f"--threads={threads}",
            f"--bind=127.0.0.1:{self.port}",
            "--backlog=2048",
            "--keep-alive=30",
        ]
        self.env = {**os.environ, **env}
        self.process: subprocess.Popen | None = None

    @property
    def description(self) -> str:
        return " ".join(["gunicorn", *self.argv[1:5]])

    def __enter__(self) -> "Gunicorn":
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        log = (OUT_DIR / self.log_name).open("ab")
        self.process = subprocess.Popen(  # noqa: S603 (our own argv)
            self.argv, cwd=self.cwd, env=self.env, stdout=log, stderr=log
        )
        wait_for_port(self.port)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[1]) == pid:
            found.append(int(entry.name))
    return found


class CpuMeter:
    """CPU seconds used by a process tree and a database's backends.

    On a shared machine the wall-clock rate depends on the neighbours; the
    server's CPU time per request does not, and bounds the rate on idle
    cores: ``cores / cpu_per_request``.
    """

    def __init__(
        self, root_pid: int, database: str, *, count_exited_backends: bool = False
    ) -> None:
        self.root_pid = root_pid
        self.database = database
        # A server that opens a connection per request (CONN_MAX_AGE 0) has
        # backends that exit between samples: their CPU is only found in the
        # postmaster's reaped-children time (which counts any exited
        # backend: keep the machine otherwise quiet).
        self.count_exited_backends = count_exited_backends
        self._postmaster: int | None = None

    def _pg_pids(self) -> list[int]:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s",
                (self.database,),
            ).fetchall()
        return [row[0] for row in rows]

    def sample(self) -> dict[int, float]:
        pids = [self.root_pid, *_children(self.root_pid)]
        web = {pid: _cpu_seconds(pid) for pid in pids}
        backends = self._pg_pids()
        db = {-pid: _cpu_seconds(pid) for pid in backends}
        if self.count_exited_backends:
            db[-1] = self._reaped_backend_seconds(backends)
        return {**web, **db}

    def _reaped_backend_seconds(self, backends: list[int]) -> float:
        if self._postmaster is None:
            import psycopg

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
                stat = Path(f"/proc/{backend}/stat").read_text()
                self._postmaster = int(stat.rsplit(")", 1)[1].split()[1])
        fields = Path(f"/proc/{self._postmaster}/stat").read_text()
        fields = fields.rsplit(")", 1)[1].split()
        return (int(fields[13]) + int(fields[14])) / _TICK  # cutime + cstime

    @staticmethod
    def used(before: dict[int, float], after: dict[int, float]) -> tuple:
        """(web seconds, database seconds) between two samples."""
        web = sum(v - before.get(k, 0.0) for k, v in after.items() if k > 0)
        db = sum(v - before.get(k, 0.0) for k, v in after.items() if k < 0)
        return web, db


def cpu_line(web: float, db: float, count: int, unit: str) -> str:
    per = (web + db) / count * 1000
    cores = len(os.sched_getaffinity(0))
    return (
        f"Server CPU per {unit}: {per:.2f} ms (gunicorn {web / count * 1000:.2f}"
        f" + PostgreSQL {db / count * 1000:.2f}); bound on {cores} idle cores "
        f"~{cores / (per / 1000):.0f}/s"
    )


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (``share`` 0.99 for p99)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


def latency_line(seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (
        f"p50 {median(ms):.1f} ms, p90 {percentile(ms, 0.90):.1f} ms, "
        f"p99 {percentile(ms, 0.99):.1f} ms, max {max(ms):.1f} ms"
    )


def verdict(ok: bool) -> str:
    return "OK" if ok else "SHORT"
