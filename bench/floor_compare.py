"""Run the floor (bench/floor/) beside ours: its database, its server, ratios.

The floor is another Django project, so this process (configured for ours)
never imports it: the floor is migrated and seeded by its own manage.py in
a subprocess, and read back with plain SQL.
"""

import json
import os
import subprocess
from dataclasses import dataclass, field

import psycopg

from bench import common

FLOOR_DIR = common.ROOT / "bench" / "floor"


def floor_env(database: str, *, persistent: bool = False) -> dict[str, str]:
    base = common.PG_ADMIN_URL.rsplit("/", 1)[0]
    return {
        "FLOOR_DATABASE_URL": f"{base}/{database}",
        "FLOOR_CONN_MAX_AGE": "60" if persistent else "0",
        "DJANGO_SETTINGS_MODULE": "floor_project.settings",
        "MPESA_CALLBACK_SECRET": common.CALLBACK_SECRET,
    }


def _manage(env: dict[str, str], *argv: str) -> str:
    full_env = {**os.environ, **env}
    full_env.pop("DATABASE_URL", None)
    return subprocess.run(  # noqa: S603 (our own argv)
        [str(common.VENV_BIN / "python"), "manage.py", *argv],
        cwd=FLOOR_DIR,
        env=full_env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def floor_prepare(
    database: str, *, payments: int, pollers: bool = False, persistent: bool = False
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """A fresh floor database with ``payments`` pending payments.

    Returns the floor's environment and, with ``pollers``, one
    (token, checkout id) pair per payment, each its own user.
    """
    env = floor_env(database, persistent=persistent)
    common.recreate_database(database)
    _manage(env, "migrate", "--noinput", "-v0")
    seeded = _manage(
        env, "floor_seed", "--payments", str(payments), *(["--pollers"] * pollers)
    )
    pairs = [tuple(json.loads(line)) for line in seeded.splitlines() if line]
    return env, pairs


def floor_server(env: dict[str, str], args) -> common.Gunicorn:
    return common.Gunicorn(
        env,
        workers=args.workers,
        worker_class=args.worker_class,
        threads=args.threads,
        app="floor_project.wsgi",
        cwd=FLOOR_DIR,
        log_name="floor-gunicorn.log",
    )


def add_floor_arguments(parser) -> None:
    """``--against-floor``, ``--rounds`` and ``--floor-per-request``."""
    parser.add_argument("--against-floor", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="with --against-floor")
    parser.add_argument(
        "--floor-per-request",
        action="store_true",
        help="the floor opens a connection per request (startproject's default)",
    )


def side_meter(
    name: str, server: common.Gunicorn, database: str, args
) -> common.CpuMeter:
    """One side's meter. The floor's with ``--floor-per-request``
    (startproject's default) counts its backends that exit between samples
    as reaped."""
    exited = name == "floor" and args.floor_per_request
    return common.CpuMeter(server.process.pid, database, count_exited_backends=exited)


def floor_description(args) -> str:
    if args.floor_per_request:
        return "floor with startproject's connection per request (CONN_MAX_AGE 0)"
    return "floor with persistent connections (CONN_MAX_AGE 60, as ours)"


def floor_completions(database: str) -> dict[str, int]:
    """Completed payments and status events, for the exactly-once check."""
    base = common.PG_ADMIN_URL.rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/{database}") as conn:
        completed = conn.execute(
            "SELECT count(*) FROM floor_app_payment WHERE status = 'completed'"
        ).fetchone()[0]
        events = conn.execute("SELECT count(*) FROM floor_app_statusevent").fetchone()[
            0
        ]
        raw = conn.execute("SELECT count(*) FROM floor_app_rawcallback").fetchone()[0]
    return {"completed": completed, "status_events": events, "raw_callbacks": raw}


@dataclass
class Tally:
    """One side's measured rounds: requests, wall seconds and CPU seconds."""

    name: str
    requests: int = 0
    wall: float = 0.0
    web_cpu: float = 0.0
    db_cpu: float = 0.0
    latencies: list[float] = field(default_factory=list)
    rounds: list[str] = field(default_factory=list)

    def add(self, *, requests: int, wall: float, web: float, db: float) -> None:
        self.requests += requests
        self.wall += wall
        self.web_cpu += web
        self.db_cpu += db
        per = (web + db) / requests * 1000 if requests else float("nan")
        self.rounds.append(f"{requests / wall:.0f}/s, {per:.2f} ms CPU")

    @property
    def rate(self) -> float:
        return self.requests / self.wall if self.wall else 0.0

    @property
    def cpu_ms(self) -> float:
        return (self.web_cpu + self.db_cpu) / self.requests * 1000

    def line(self, unit: str) -> str:
        web_ms = self.web_cpu / self.requests * 1000
        db_ms = self.db_cpu / self.requests * 1000
        return (
            f"{self.name:5s}: {self.rate:6.0f} {unit}s/s, server CPU "
            f"{self.cpu_ms:.2f} ms/{unit} (web {web_ms:.2f} + PostgreSQL "
            f"{db_ms:.2f}); rounds: " + "; ".join(self.rounds)
        )


def print_comparison(
    ours: Tally, floor: Tally, unit: str, *, max_cpu_ratio: float, min_rate_ratio=None
) -> bool:
    """Both sides and their ratios against the issue's targets."""
    print(ours.line(unit))
    print(floor.line(unit))
    cpu_ratio = ours.cpu_ms / floor.cpu_ms
    ok = cpu_ratio <= max_cpu_ratio
    print(
        f"CPU per {unit}, ours / floor: {cpu_ratio:.2f}x -> expected <= "
        f"{max_cpu_ratio}x: {common.verdict(cpu_ratio <= max_cpu_ratio)}"
    )
    if min_rate_ratio is not None:
        rate_ratio = ours.rate / floor.rate
        ok = ok and rate_ratio >= min_rate_ratio
        print(
            f"{unit}s/s, ours / floor: {rate_ratio:.2f}x -> expected >= "
            f"{min_rate_ratio}x: {common.verdict(rate_ratio >= min_rate_ratio)}"
        )
    return ok
