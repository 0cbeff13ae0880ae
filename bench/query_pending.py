"""Benchmark: ``manage.py query_pending`` against a slow Daraja (item 3).

    python bench/query_pending.py [--n 1000] [--full] [--concurrency 1 4 16]
        [--processes P]

Starts the local Daraja simulator (its own process), pushes N payments per
concurrency level through it (the real DarajaClient; their callbacks go
nowhere, as if lost), waits until the simulator has decided them, then sets
its response delay to 100 ms and runs ``query_pending --older-than 0`` at
each concurrency. Reports wall time against the ideal N x 0.1 s /
concurrency (expected within 25%) and SQL statements per payment (from a
separate run of 50 payments at concurrency 1 under CaptureQueriesContext).
``--full`` uses N = 10,000 (about 20 minutes at concurrency 1).
``--processes`` is passed to ``query_pending`` (default: two per core, at
most the concurrency; ``--processes 1`` is the single-process run). Two
per core because each query's Python work (parse, store raw, apply) holds
its process's interpreter lock; measured 2026-12-03 at c=16: 1 process
+84 %, 2 +55 %, 4 +40 % over the ideal.
"""

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, fixtures  # noqa: E402
from bench.stk_push import SIMULATOR, start_simulator  # noqa: E402

DAR_DELAY = 0.1
TOLERANCE = 0.25


def pushed_payments(count: int) -> list[int]:
    """``count`` pending payments that the simulator knows, already decided."""
    from payments.daraja.client import get_client
    from payments.models import Payment

    client = get_client()
    bookings = fixtures.create_bookings(count)
    payments = []
    for i, booking in enumerate(bookings):
        phone = f"2547220{i % 100000:05d}"
        push = client.stk_push(
            phone_number=phone,
            amount=booking.amount,
            account_reference="BENCH",
            transaction_desc="bench",
        )
        payments.append(
            Payment(
                booking=booking,
                amount=booking.amount,
                phone_number=phone,
                status=Payment.Status.PENDING,
                checkout_request_id=push.checkout_request_id,
                merchant_request_id=push.merchant_request_id,
            )
        )
    created = Payment.objects.bulk_create(payments, batch_size=1000)
    return [p.pk for p in created]


def run_command(concurrency: int, processes: int = 1) -> dict:
    from django.core.management import call_command

    out = io.StringIO()
    call_command(
        "query_pending",
        "--older-than=0",
        f"--concurrency={concurrency}",
        f"--processes={processes}",
        "--rate=100000",
        "--json",
        stdout=out,
    )
    return json.loads(out.getvalue())["summary"]


def queries_per_payment(sample: int) -> float:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    pushed_payments(sample)
    time.sleep(0.5)  # let the simulator decide them
    with CaptureQueriesContext(connection) as captured:
        summary = run_command(1)
    return len(captured.captured_queries) / max(1, summary["examined"])


def daraja_seconds(since) -> float:
    """Total time the client spent in STK queries since ``since``."""
    from django.db.models import Sum

    from payments.models import PaymentEvent

    total = PaymentEvent.objects.filter(
        kind=PaymentEvent.Kind.DARAJA_EXCHANGE,
        operation="stk_query",
        created_at__gte=since,
    ).aggregate(total=Sum("duration_ms"))["total"]
    return (total or 0.0) / 1000


def set_delay(base_url: str, seconds: float) -> None:
    import requests

    requests.post(
        f"{base_url}/simulator/config", json={"response_delay": seconds}, timeout=10
    ).raise_for_status()


def _own_cpu_seconds() -> float:
    """This process's CPU and its exited children's (``--processes``)."""
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--full", action="store_true", help="N = 10,000")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--processes", type=int, help="default: 2 x cores, <= c")
    parser.add_argument("--database", default="hky_bench_query")
    args = parser.parse_args(argv)
    cores = len(os.sched_getaffinity(0))
    n = 10_000 if args.full else args.n

    sim_port = common.free_port()
    base_url = f"http://127.0.0.1:{sim_port}"
    env = common.bench_env(
        args.database,
        MPESA_BASE_URL=base_url,
        MPESA_CALLBACK_URL=f"http://127.0.0.1:{common.free_port()}/cb/x",
        **SIMULATOR,
    )
    common.recreate_database(args.database)
    common.setup_django(env)
    common.migrate()
    common.flush_redis_dbs(9, 10)
    common.print_machine()
    simulator = start_simulator(sim_port, {**env}, callback_delay=0.01)
    rows, ok = [], True
    try:
        per_payment = queries_per_payment(50)
        for concurrency in args.concurrency:
            set_delay(base_url, 0)
            pushed_payments(n)
            time.sleep(1)
            set_delay(base_url, DAR_DELAY)
            from django.utils import timezone

            since = timezone.now()
            meter = common.CpuMeter(
                simulator.pid, args.database, count_exited_backends=True
            )
            cpu_before = (meter.sample(), _own_cpu_seconds())
            start = time.perf_counter()
            processes = args.processes or min(2 * cores, concurrency)
            summary = run_command(concurrency, processes)
            wall = time.perf_counter() - start
            simulator_cpu, pg_cpu = common.CpuMeter.used(cpu_before[0], meter.sample())
            cpu = (_own_cpu_seconds() - cpu_before[1], pg_cpu, simulator_cpu)
            ideal = n * DAR_DELAY / concurrency
            within = wall <= ideal * (1 + TOLERANCE)
            ok = ok and within and summary["examined"] == n
            daraja = daraja_seconds(since) / concurrency
            rows.append((concurrency, processes, wall, ideal, daraja, summary, cpu))
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
    print(f"query_pending over {n} pending payments, Daraja answering in 100 ms")
    for concurrency, processes, wall, ideal, daraja, summary, cpu in rows:
        print(
            f"  concurrency {concurrency:>2} ({processes} process"
            f"{'es' if processes > 1 else ''}): {wall:7.1f} s, ideal {ideal:6.1f} s "
            f"({wall / ideal - 1:+.0%}) -> within 25%: "
            f"{common.verdict(wall <= ideal * (1 + TOLERANCE))}; "
            f"time inside Daraja calls / concurrency {daraja:.1f} s; "
            f"examined {summary['examined']}, completed {summary['completed']}, "
            f"errors {summary['errors']}"
        )
        ours, pg, simulator_cpu = (seconds / n * 1000 for seconds in cpu)
        print(
            f"    CPU per payment: query_pending {ours:.1f} ms, PostgreSQL "
            f"{pg:.1f} ms, simulator {simulator_cpu:.1f} ms; all of it "
            f"{(ours + pg + simulator_cpu) * n / 1000 / cores:.1f} s of "
            f"{cores} cores"
        )
    print(f"SQL per payment (concurrency 1, 50 payments): {per_payment:.1f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
