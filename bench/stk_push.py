"""Benchmark: what the STK push endpoint adds above Daraja (item 2).

    python bench/stk_push.py [--n 1000]

Starts the local Daraja simulator (response delay 0, no callbacks during
the run) and gunicorn, creates N bookings for one client, and pushes each
once through ``POST /api/payment/mpesa/stk-push`` (token auth, one request
at a time so nothing queues). For every push, the time our code adds is
the endpoint's latency minus the Daraja exchanges (OAuth, push) that the
client recorded as PaymentEvents with their duration. OAuth requests are
counted from the simulator's request log: expected 1 per 1,000 pushes.
Throttles are raised for the run (STK_PUSH_RATE_PER_USER/PHONE).
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, fixtures  # noqa: E402

SIMULATOR = {
    "MPESA_CONSUMER_KEY": "bench-key",
    "MPESA_CONSUMER_SECRET": "bench-secret",
    "MPESA_BUSINESS_SHORT_CODE": "174379",
    "MPESA_PASSKEY": "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919",
}


def start_simulator(
    port: int, env: dict[str, str], *, callback_delay: float = 3600
) -> subprocess.Popen:
    """``python -m daraja_simulator`` in its own process (own GIL)."""
    argv = [
        str(common.VENV_BIN / "python"),
        "-m",
        "daraja_simulator",
        f"--port={port}",
        "--response-delay=0",
        f"--callback-delay={callback_delay}",
        "--stk-lifetime=7200",
        "--no-lock-subscriber",
        "--log-level=WARNING",
        "--allow-production",  # the bench runs with DEBUG=0
    ]
    common.OUT_DIR.mkdir(parents=True, exist_ok=True)
    log = (common.OUT_DIR / "simulator.log").open("ab")
    process = subprocess.Popen(  # noqa: S603 (our own argv)
        argv, cwd=common.ROOT, env={**env}, stdout=log, stderr=log
    )
    common.wait_for_port(port)
    return process


def exchange_ms_by_payment() -> dict[int, float]:
    from django.db.models import Sum

    from payments.models import PaymentEvent

    rows = (
        PaymentEvent.objects.filter(kind=PaymentEvent.Kind.DARAJA_EXCHANGE)
        .values("payment_id")
        .annotate(total=Sum("duration_ms"))
    )
    return {row["payment_id"]: row["total"] or 0.0 for row in rows}


def push_all(port: int, token: str, booking_ids: list[int]) -> list[tuple]:
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    url = f"http://127.0.0.1:{port}/api/payment/mpesa/stk-push"
    results = []
    for i, booking_id in enumerate(booking_ids):
        phone = f"07220{i:05d}"
        start = time.perf_counter()
        response = session.post(
            url, json={"phone_number": phone, "booking_id": booking_id}, timeout=30
        )
        elapsed = (time.perf_counter() - start) * 1000
        payment_id = response.json().get("payment_id") if response.ok else None
        results.append((response.status_code, elapsed, payment_id))
    return results


def oauth_requests(sim_port: int) -> int:
    import requests

    url = f"http://127.0.0.1:{sim_port}/simulator/requests"
    log = requests.get(url, params={"path": "/oauth/v1/generate"}, timeout=10).json()
    entries = log if isinstance(log, list) else log.get("requests", [])
    return len(entries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database", default="hky_bench_push")
    args = parser.parse_args(argv)

    sim_port, web_port = common.free_port(), common.free_port()
    env = common.bench_env(
        args.database,
        MPESA_BASE_URL=f"http://127.0.0.1:{sim_port}",
        MPESA_CALLBACK_URL=f"http://127.0.0.1:{web_port}/api/payment/callback/"
        + common.CALLBACK_SECRET,
        STK_PUSH_RATE_PER_USER="1000000/min",
        STK_PUSH_RATE_PER_PHONE="1000000/min",
        **SIMULATOR,
    )
    common.recreate_database(args.database)
    common.setup_django(env)
    common.migrate()
    common.flush_redis_dbs(9, 10)
    from rest_framework.authtoken.models import Token

    client = fixtures.create_client()
    token = Token.objects.create(user=client).key
    bookings = fixtures.create_bookings(args.n, client=client)
    common.print_machine()
    from django.db import connection

    connection.close()
    simulator = start_simulator(sim_port, {**env})
    server = common.Gunicorn(
        env, workers=args.workers, worker_class=args.worker_class, threads=args.threads
    )
    server.port = web_port
    server.argv[5] = f"--bind=127.0.0.1:{web_port}"
    try:
        with server:
            results = push_all(web_port, token, [b.pk for b in bookings])
            oauth = oauth_requests(sim_port)
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
    exchanges = exchange_ms_by_payment()
    statuses: dict[int, int] = {}
    added, total = [], []
    for status, elapsed, payment_id in results:
        statuses[status] = statuses.get(status, 0) + 1
        total.append(elapsed)
        if payment_id is not None:
            added.append(elapsed - exchanges.get(payment_id, 0.0))
    daraja = [exchanges.get(pid, 0.0) for _, _, pid in results if pid]
    print(f"Server: {server.description}; simulator response delay 0")
    print(f"Pushes: {args.n} sequential, HTTP statuses {statuses}")
    print(
        f"Endpoint latency: median {median(total):.1f} ms, "
        f"p99 {common.percentile(total, 0.99):.1f} ms"
    )
    print(
        f"Simulator exchanges (as the client timed them): median "
        f"{median(daraja):.1f} ms, p99 {common.percentile(daraja, 0.99):.1f} ms"
    )
    print(
        f"Added by our code: median {median(added):.1f} ms, "
        f"p99 {common.percentile(added, 0.99):.1f} ms"
    )
    # The token lives 3599 s: one OAuth request serves the whole run.
    once = oauth <= -(-args.n // 1000)
    print(
        f"OAuth requests: {oauth} for {args.n} pushes -> expected 1 per "
        f"1,000: {common.verdict(once)}"
    )
    return 0 if once and statuses.get(201) == args.n else 1


if __name__ == "__main__":
    sys.exit(main())
