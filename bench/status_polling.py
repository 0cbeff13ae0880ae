"""Benchmark: the status endpoint under 200 concurrent pollers (item 4).

    python bench/status_polling.py [--pollers 200] [--duration 20]

Each poller is a client with its own token and pending payment. wrk (from
Debian: ``apt-get install wrk``) keeps 200 connections open to gunicorn and
sends ``GET /api/payment/mpesa/status/<CheckoutRequestID>`` with
``Authorization: Token ...``; a Lua script spreads the requests over the
pollers' (token, payment) pairs. Expected on 2 cores: >= 400 requests/s.
"""

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, fixtures  # noqa: E402

EXPECTED_RATE = 400
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


def write_lua(pairs: list[tuple[str, str]]) -> Path:
    items = ",".join(f'{{"{token}","{cid}"}}' for token, cid in pairs)
    path = common.OUT_DIR / "status_polling.lua"
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pollers", type=int, default=200)
    parser.add_argument("--duration", type=int, default=20, help="seconds")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database", default="hky_bench_status")
    args = parser.parse_args(argv)

    env = common.bench_env(args.database)
    common.recreate_database(args.database)
    common.setup_django(env)
    common.migrate()
    common.flush_redis_dbs(9, 10)
    script = write_lua(create_pollers(args.pollers))
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
