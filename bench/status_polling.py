"""Benchmark: the status endpoint under 200 concurrent pollers (item 4).

    python bench/status_polling.py [--pollers 200] [--duration 20]
    python bench/status_polling.py --against-floor [--rounds 3] [--duration 10]

Each poller is a client with its own token and pending payment. wrk (from
Debian: ``apt-get install wrk``) keeps 200 connections open to gunicorn and
sends ``GET /api/payment/mpesa/status/<CheckoutRequestID>`` with
``Authorization: Token ...``; a Lua script spreads the requests over the
pollers' (token, payment) pairs. Expected on 2 cores: >= 400 requests/s.

With ``--against-floor`` (issue 18, points 1 and 3) the floor (bench/floor/:
DRF's TokenAuthentication, one indexed read, the same fields) gets its own
200 pollers; both run under the same gunicorn flags (default ``-w 2 -k
gthread --threads 4``) and wrk script, ``--rounds`` rounds alternating which
side goes first. Expected: our CPU per poll <= 1.2x the floor's.
"""

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, fixtures  # noqa: E402
from bench import floor_compare as floor  # noqa: E402

EXPECTED_RATE = 400
FLOOR_MAX_CPU_RATIO = 1.2
LUA = """
local pairs_ = {%s}
local n = #pairs_
local i = 0
function setup(thread)
  thread:set("offset", i)
  i = i + 1
end
function init(args)
  i = tonumber(wrk.thread:get("offset")) or 0
end
function request()
  i = i %% n + 1
  local p = pairs_[i]
  return wrk.format("GET", "/api/payment/mpesa/status/" .. p[2],
    {["Authorization"] = "Token " .. p[1], ["Host"] = "127.0.0.1"})
end
"""


def create_pollers(count: int) -> list[tuple[str, str]]:
    """``count`` clients, each with a token and one pending payment."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from payments.models import Payment

    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"poller{i}") for i in range(count)]
    )
    tokens = Token.objects.bulk_create(
        [Token(user=u, key=Token.generate_key()) for u in users]
    )
    payments = fixtures.create_pending_payments(count)
    for payment, user in zip(payments, users, strict=True):
        payment.initiated_by = user
        payment.booking.client = user
    Payment.objects.bulk_update(payments, ["initiated_by"])
    bookings = [p.booking for p in payments]
    type(bookings[0]).objects.bulk_update(bookings, ["client"])
    return [
        (t.key, p.checkout_request_id) for t, p in zip(tokens, payments, strict=True)
    ]


def write_lua(pairs: list[tuple[str, str]], name: str = "status_polling") -> Path:
    items = ",".join(f'{{"{token}","{cid}"}}' for token, cid in pairs)
    path = common.OUT_DIR / f"{name}.lua"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(LUA % items)
    return path


def run_wrk(port: int, script: Path, *, connections: int, duration: int) -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    argv = [
        wrk,
        "-t2",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "--timeout=10s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
    ]
    return subprocess.run(  # noqa: S603 (fixed argv)
        argv, capture_output=True, text=True, check=True
    ).stdout


def parse_wrk(output: str) -> dict[str, float]:
    figures: dict[str, float] = {}
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    figures["rate"] = float(rate.group(1)) if rate else 0.0
    total = re.search(r"(\d+) requests in", output)
    figures["requests"] = float(total.group(1)) if total else 0.0
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    figures["non_2xx"] = float(errors.group(1)) if errors else 0.0
    for label, value, unit in re.findall(r"\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*\n", output):
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
        figures[f"p{label}"] = float(value) * scale
    return figures


def against_floor(args: argparse.Namespace, env: dict[str, str], script: Path) -> int:
    """Ours and the floor, same flags and wrk script shape, rounds interleaved."""
    floor_db = "hky_bench_floor_status"
    floor_env, floor_pairs = floor.floor_prepare(
        floor_db,
        payments=args.pollers,
        pollers=True,
        persistent=not args.floor_per_request,
    )
    floor_script = write_lua(floor_pairs, "status_polling_floor")
    common.print_machine()
    from django.db import connection

    connection.close()
    ours = common.Gunicorn(
        env, workers=args.workers, worker_class=args.worker_class, threads=args.threads
    )
    theirs = floor.floor_server(floor_env, args)
    sides = {
        "ours": (ours, args.database, script),
        "floor": (theirs, floor_db, floor_script),
    }
    tallies = {"ours": floor.Tally("ours"), "floor": floor.Tally("floor")}
    failures = 0
    with ours, theirs:
        for server, _, lua in sides.values():
            run_wrk(server.port, lua, connections=args.pollers, duration=3)  # warm
        for round_ in range(args.rounds):
            order = ["ours", "floor"] if round_ % 2 == 0 else ["floor", "ours"]
            for name in order:
                server, database, lua = sides[name]
                meter = floor.side_meter(name, server, database, args)
                before = meter.sample()
                output = run_wrk(
                    server.port, lua, connections=args.pollers, duration=args.duration
                )
                web, db = meter.used(before, meter.sample())
                figures = parse_wrk(output)
                failures += int(figures["non_2xx"])
                tallies[name].add(
                    requests=int(figures["requests"]),
                    wall=figures["requests"] / figures["rate"],
                    web=web,
                    db=db,
                )
    print(f"Server: {ours.description} (both)")
    print(
        f"Load: {args.rounds} rounds x wrk -t2 -c{args.pollers} -d{args.duration}s "
        f"per side, {args.pollers} pollers each (own token, own pending payment)"
    )
    print(f"Floor: {floor.floor_description(args)}")
    print(f"Non-2xx responses (both sides): {failures}")
    ok = floor.print_comparison(
        tallies["ours"], tallies["floor"], "poll", max_cpu_ratio=FLOOR_MAX_CPU_RATIO
    )
    return 0 if ok and failures == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pollers", type=int, default=200)
    parser.add_argument("--duration", type=int, help="seconds (20; 10 per round)")
    parser.add_argument("--workers", type=int, help="default 4, 2 against the floor")
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database", default="hky_bench_status")
    floor.add_floor_arguments(parser)
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = 10 if args.against_floor else 20
    if args.workers is None:
        args.workers = 2 if args.against_floor else 4

    env = common.bench_env(args.database)
    common.recreate_database(args.database)
    common.setup_django(env)
    common.migrate()
    common.flush_redis_dbs(9, 10)
    script = write_lua(create_pollers(args.pollers))
    if args.against_floor:
        return against_floor(args, env, script)
    common.print_machine()
    from django.db import connection

    connection.close()
    server = common.Gunicorn(
        env, workers=args.workers, worker_class=args.worker_class, threads=args.threads
    )
    with server:
        run_wrk(server.port, script, connections=args.pollers, duration=3)  # warm
        meter = common.CpuMeter(server.process.pid, args.database)
        before = meter.sample()
        output = run_wrk(
            server.port, script, connections=args.pollers, duration=args.duration
        )
        web_cpu, db_cpu = meter.used(before, meter.sample())
    figures = parse_wrk(output)
    print(f"Server: {server.description}")
    print(
        f"Load: wrk -t2 -c{args.pollers} -d{args.duration}s, {args.pollers} "
        "pollers (own token, own pending payment)"
    )
    print(f"Requests: {figures['requests']:.0f}, non-2xx: {figures['non_2xx']:.0f}")
    print(
        f"Requests/s: {figures['rate']:.0f} -> expected >= {EXPECTED_RATE}: "
        f"{common.verdict(figures['rate'] >= EXPECTED_RATE)}"
    )
    print(
        "Latency: "
        + ", ".join(
            f"p{p} {figures.get(f'p{p}', float('nan')):.1f} ms" for p in (50, 90, 99)
        )
    )
    if figures["requests"]:
        count = int(figures["requests"])
        print(common.cpu_line(web_cpu, db_cpu, count, "request"))
    print("wrk output:\n" + output)
    ok = figures["rate"] >= EXPECTED_RATE and figures["non_2xx"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
