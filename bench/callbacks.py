"""Benchmark: STK callback ingestion under load (issue 8, item 1).

    python bench/callbacks.py [--n 2000] [--concurrency 16]
        [--workers 4 --worker-class gthread --threads 4]
    python bench/callbacks.py --against-floor [--n 1500] [--rounds 3]

Creates N pending payments in its own PostgreSQL database (hky_bench),
starts gunicorn on loopback, posts each payment's success callback exactly
once (bench/loadgen.py, asyncio keep-alive connections), and reports
callbacks/s, latency percentiles, SQL queries per callback (one callback
in-process under CaptureQueriesContext) and whether every payment ended
completed exactly once. Expected on 2 cores: >= 500/s, p99 < 100 ms,
<= 6 queries per callback.

With ``--against-floor`` (issue 18, point 1) it also runs the floor
(bench/floor/) under the same gunicorn flags (default ``-w 2 -k gthread
--threads 4``) and load generator, ``--rounds`` rounds of N callbacks each,
alternating which side goes first, and prints both and their ratios
(expected: our CPU per callback <= 1.2x the floor's, callbacks/s >= 0.9x).
"""

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, fixtures  # noqa: E402
from bench import floor_compare as floor  # noqa: E402
from bench.loadgen import build_request, send_all  # noqa: E402

EXPECTED_RATE = 500
EXPECTED_P99_MS = 100
# Issue 8 set <= 6; issue 13 adds the receipt and its sighting to the ledger.
EXPECTED_QUERIES = 7
FLOOR_MAX_CPU_RATIO = 1.2
FLOOR_MIN_RATE_RATIO = 0.9


def callback_body(index: int) -> bytes:
    from payments.tests.payloads import success_callback

    payload = success_callback(fixtures.checkout_id(index), receipt=f"BEN{index:07d}")
    return json.dumps(payload).encode()


def callback_path() -> str:
    return f"/api/payment/callback/{common.CALLBACK_SECRET}"


def measure_queries(index: int) -> list[str]:
    """The SQL one success callback runs, through the real view in-process."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    body = callback_body(index)
    with CaptureQueriesContext(connection) as captured:
        response = client.post(callback_path(), body, content_type="application/json")
    assert response.status_code == 200, response.content
    return [q["sql"] for q in captured.captured_queries]


CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN", "COMMIT")


def is_statement(sql: str) -> bool:
    """BEGIN/COMMIT/SAVEPOINT/RELEASE are round trips, not data statements."""
    return not sql.startswith(CONTROL)


def check_exactly_once(first: int, count: int) -> dict:
    """Statuses of the measured payments and their completed-event counts."""
    from bookings.models import Booking
    from payments.models import Payment, PaymentEvent

    ids = [fixtures.checkout_id(i) for i in range(first, first + count)]
    payments = Payment.objects.filter(checkout_request_id__in=ids)
    statuses = Counter(payments.values_list("status", flat=True))
    completions = Counter(
        PaymentEvent.objects.filter(
            kind=PaymentEvent.Kind.STATUS_CHANGE,
            to_status=Payment.Status.COMPLETED,
            checkout_request_id__in=ids,
        ).values_list("checkout_request_id", flat=True)
    )
    callbacks = PaymentEvent.objects.filter(
        kind=PaymentEvent.Kind.CALLBACK, checkout_request_id__in=ids
    ).count()
    confirmed = Booking.objects.filter(
        payments__checkout_request_id__in=ids, status=Booking.Status.CONFIRMED
    ).count()
    return {
        "statuses": dict(statuses),
        "completed_once": sum(1 for i in ids if completions[i] == 1),
        "completed_twice_or_more": sum(1 for i in ids if completions[i] > 1),
        "callback_events": callbacks,
        "bookings_confirmed": confirmed,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, help="measured callbacks (per round)")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, help="default 4, 2 against the floor")
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database", default="hky_bench_callbacks")
    parser.add_argument("--show-sql", action="store_true")
    floor.add_floor_arguments(parser)
    args = parser.parse_args(argv)
    if args.n is None:
        args.n = 1500 if args.against_floor else 2000
    if args.workers is None:
        args.workers = 2 if args.against_floor else 4
    if not args.against_floor:
        args.rounds = 1
    return args


def prepare(args: argparse.Namespace) -> dict[str, str]:
    env = common.bench_env(args.database)
    common.recreate_database(args.database)
    common.setup_django(env)
    common.migrate()
    common.flush_redis_dbs(9, 10)
    fixtures.create_pending_payments(1 + args.warmup + args.n * args.rounds)
    return env


def report_queries(queries: list[str], show_sql: bool) -> int:
    statements = [q for q in queries if is_statement(q)]
    print(
        f"SQL per callback: {len(statements)} statements "
        f"(+{len(queries) - len(statements)} BEGIN/COMMIT/SAVEPOINT/RELEASE) "
        f"-> expected <= {EXPECTED_QUERIES}: "
        f"{common.verdict(len(statements) <= EXPECTED_QUERIES)}"
    )
    for sql in queries if show_sql else []:
        print(f"    {sql[:160]}")
    return len(statements)


def against_floor(args: argparse.Namespace, env: dict[str, str]) -> int:
    """Ours and the floor, same flags and load, rounds interleaved."""
    floor_db = "hky_bench_floor_callbacks"
    floor_env, _ = floor.floor_prepare(
        floor_db,
        payments=args.warmup + args.n * args.rounds,
        persistent=not args.floor_per_request,
    )
    common.print_machine()
    queries = measure_queries(0)
    statements = report_queries(queries, args.show_sql)

    def batch(first: int, count: int) -> list[bytes]:
        return [
            build_request("POST", callback_path(), body=callback_body(i))
            for i in range(first, first + count)
        ]

    from django.db import connection

    connection.close()
    ours = common.Gunicorn(
        env, workers=args.workers, worker_class=args.worker_class, threads=args.threads
    )
    theirs = floor.floor_server(floor_env, args)
    tallies = {"ours": floor.Tally("ours"), "floor": floor.Tally("floor")}
    sides = {"ours": (ours, args.database, 1), "floor": (theirs, floor_db, 0)}
    with ours, theirs:
        for server, _, offset in sides.values():
            send_all(
                server.port, batch(offset, args.warmup), concurrency=args.concurrency
            )
        for round_ in range(args.rounds):
            order = ["ours", "floor"] if round_ % 2 == 0 else ["floor", "ours"]
            for name in order:
                server, database, offset = sides[name]
                first = offset + args.warmup + round_ * args.n
                load = batch(first, args.n)
                meter = floor.side_meter(name, server, database, args)
                before = meter.sample()
                result = send_all(server.port, load, concurrency=args.concurrency)
                web, db = meter.used(before, meter.sample())
                if result.statuses != {200: args.n} or result.errors:
                    print(
                        f"{name} round {round_ + 1}: {result.statuses}, {result.errors}"
                    )
                tallies[name].add(requests=args.n, wall=result.wall, web=web, db=db)
    total = args.n * args.rounds
    outcome = check_exactly_once(1 + args.warmup, total)
    floor_outcome = floor.floor_completions(floor_db)
    print(f"Server: {ours.description} (both); {args.concurrency} connections")
    print(f"Load: {args.rounds} rounds x {args.n} distinct success callbacks per side")
    print(f"Floor: {floor.floor_description(args)}")
    ok = floor.print_comparison(
        tallies["ours"],
        tallies["floor"],
        "callback",
        max_cpu_ratio=FLOOR_MAX_CPU_RATIO,
        min_rate_ratio=FLOOR_MIN_RATE_RATIO,
    )
    once = outcome["completed_once"] == total
    floor_once = floor_outcome["status_events"] == args.warmup + total
    print(
        f"Ours: {outcome}; every payment completed exactly once: {common.verdict(once)}"
    )
    print(f"Floor: {floor_outcome}; exactly once: {common.verdict(floor_once)}")
    return 0 if ok and once and statements <= EXPECTED_QUERIES else 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = prepare(args)
    if args.against_floor:
        return against_floor(args, env)
    common.print_machine()
    queries = measure_queries(0)
    warm = [
        build_request("POST", callback_path(), body=callback_body(i))
        for i in range(1, 1 + args.warmup)
    ]
    first = 1 + args.warmup
    load = [
        build_request("POST", callback_path(), body=callback_body(i))
        for i in range(first, first + args.n)
    ]
    from django.db import connection

    connection.close()
    server = common.Gunicorn(
        env,
        workers=args.workers,
        worker_class=args.worker_class,
        threads=args.threads,
    )
    with server:
        send_all(server.port, warm, concurrency=args.concurrency)
        meter = common.CpuMeter(server.process.pid, args.database)
        before = meter.sample()
        result = send_all(server.port, load, concurrency=args.concurrency)
        web_cpu, db_cpu = meter.used(before, meter.sample())
    outcome = check_exactly_once(first, args.n)
    print(f"Server: {server.description}")
    print(
        f"Load: {args.n} distinct success callbacks, {args.concurrency} "
        f"keep-alive connections (asyncio generator, client CPU "
        f"{result.client_cpu:.2f} s of {result.wall:.2f} s wall)"
    )
    print(f"HTTP statuses: {result.statuses}, connection errors: {result.errors}")
    ms = [s * 1000 for s in result.latencies]
    p99 = common.percentile(ms, 0.99)
    print(
        f"Callbacks/s: {result.rate:.0f} -> expected >= {EXPECTED_RATE}: "
        f"{common.verdict(result.rate >= EXPECTED_RATE)}"
    )
    print(
        f"Latency: {common.latency_line(result.latencies)} -> expected p99 < "
        f"{EXPECTED_P99_MS} ms: {common.verdict(p99 < EXPECTED_P99_MS)}"
    )
    print(common.cpu_line(web_cpu, db_cpu, args.n, "callback"))
    statements = report_queries(queries, args.show_sql)
    print(f"Outcome: {outcome}")
    once = outcome["completed_once"] == args.n and outcome["statuses"] == {
        "completed": args.n
    }
    print(f"Every payment completed exactly once: {common.verdict(once)}")
    ok = (
        once
        and result.rate >= EXPECTED_RATE
        and p99 < EXPECTED_P99_MS
        and statements <= EXPECTED_QUERIES
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
