"""Profile one success callback path in-process (pyinstrument), with its SQL.

    python bench/profile_callback.py [--n 500] [--cprofile [--top 40]]

Runs N success callbacks through the real view (Django test client, same
middleware as gunicorn) on PostgreSQL and prints the CPU time per callback,
the SQL of one callback and pyinstrument's call tree (wall-clock): the
evidence behind the callback figures in bench/README.md. ``--cprofile``
profiles CPU instead (cProfile timed by ``time.process_time``) and prints
the ``--top`` functions by own and by cumulative time.
"""

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, fixtures  # noqa: E402
from bench.callbacks import callback_body, callback_path, measure_queries  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--database", default="hky_bench_profile")
    parser.add_argument("--cprofile", action="store_true", help="CPU, not wall")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args(argv)
    env = common.bench_env(args.database)
    common.recreate_database(args.database)
    common.setup_django(env)
    common.migrate()
    fixtures.create_pending_payments(2 * args.n + 51)
    common.print_machine()
    from django.test import Client
    from pyinstrument import Profiler

    for sql in measure_queries(0):
        print(f"  SQL {sql[:150]}")
    client = Client(HTTP_HOST="127.0.0.1")
    for i in range(1, 51):  # warm up
        client.post(callback_path(), callback_body(i), content_type="application/json")
    cpu = time.process_time()
    wall = time.perf_counter()
    for i in range(51, 51 + args.n):
        client.post(callback_path(), callback_body(i), content_type="application/json")
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"Per callback in-process: CPU {cpu / args.n * 1000:.2f} ms, "
        f"wall {wall / args.n * 1000:.2f} ms"
    )
    fresh = range(51 + args.n, 51 + 2 * args.n)
    if args.cprofile:
        cpu_profile(client, fresh, args.top)
        return 0
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for i in fresh:
        client.post(callback_path(), callback_body(i), content_type="application/json")
    profiler.stop()
    print(profiler.output_text(unicode=False, color=False))
    return 0


def cpu_profile(client, indexes: range, top: int) -> None:
    """cProfile timed by process CPU time: where the CPU goes, not wall."""
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for i in indexes:
        client.post(callback_path(), callback_body(i), content_type="application/json")
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


if __name__ == "__main__":
    sys.exit(main())
