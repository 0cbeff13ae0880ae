"""Benchmark: the admin payment list with 100,000 payments (issue 8, item 5).

    python bench/admin_list.py [--n 100000] [--repeat 9] [--show-sql]

Fills its own PostgreSQL database (hky_bench_admin) with N bookings and one
payment each, in a realistic mix of statuses spread over ~90 days, then
logs a superuser in with Django's test Client (in-process, DEBUG off) and
times the changelist: page 1, a middle page, status=pending, a search by
phone and one by receipt; then the reconciliation page. Per page: SQL
statements (must be the same for every page), the median server time of
``--repeat`` requests, the SQL time and the share of the COUNT(*) queries.
Finally the same pages with ``show_full_result_count = False``, to size
that fix. Expected: a constant number of statements per page.
"""

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.admin_data import create_data, phone_of, receipt_of  # noqa: E402

LIST_URL = "/admin/payments/payment/"
RECONCILIATION_URL = LIST_URL + "reconciliation/"
PLAIN_STATIC = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


@dataclass(frozen=True, slots=True)
class PageFigures:
    """One page's figures: one row of the printed table."""

    name: str
    status_code: int
    rows: int
    queries: int
    count_queries: int
    median_ms: float
    min_ms: float
    sql_ms: float
    count_ms: float
    slowest: list[tuple[float, str]]


def pages(count: int, per_page: int) -> list[tuple[str, str]]:
    """(name, URL) of each page to time; the reconciliation page last."""
    middle = max(1, count // per_page // 2)
    return [
        ("list, page 1", LIST_URL),
        (f"list, page {middle} (middle)", f"{LIST_URL}?p={middle}"),
        ("status=pending, page 1", f"{LIST_URL}?status__exact=pending"),
        ("search by phone", f"{LIST_URL}?q=0{phone_of(4321)[3:]}"),
        ("search by receipt", f"{LIST_URL}?q={receipt_of(4320)}"),
        ("reconciliation", RECONCILIATION_URL),
    ]


def is_count(sql: str) -> bool:
    """Whether ``sql`` is a COUNT(*) statement."""
    return sql.lstrip().upper().startswith("SELECT COUNT(*)")


class SqlTimer:
    """Every statement of one request with its own time (perf_counter; the
    debug cursor rounds to the millisecond)."""

    def __init__(self) -> None:
        self.timed: list[tuple[float, str]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.timed.append(((time.perf_counter() - started) * 1000, sql))


def measure(client, name: str, url: str, repeat: int) -> PageFigures:
    """One request with its SQL recorded, then ``repeat`` timed ones."""
    from django.db import connection

    timer = SqlTimer()
    with connection.execute_wrapper(timer):
        response = client.get(url)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    counts = [ms for ms, sql in timer.timed if is_count(sql)]
    return PageFigures(
        name=name,
        status_code=response.status_code,
        rows=_result_count(response),
        queries=len(timer.timed),
        count_queries=len(counts),
        median_ms=median(times),
        min_ms=min(times),
        sql_ms=sum(ms for ms, _ in timer.timed),
        count_ms=sum(counts),
        slowest=sorted(timer.timed, reverse=True)[:3],
    )


def _result_count(response) -> int:
    """Rows the changelist matched (-1 for other pages)."""
    changelist = (getattr(response, "context_data", None) or {}).get("cl")
    return changelist.result_count if changelist else -1


def print_figures(rows: list[PageFigures], *, show_sql: bool) -> None:
    """The table of figures; with ``show_sql``, each page's slowest 3 SQL."""
    print(
        f"{'page':34} {'HTTP':>4} {'rows':>6} {'SQL':>4} {'COUNT':>5} {'median ms':>9} "
        f"{'min ms':>7} {'SQL ms':>7} {'COUNT ms':>8}"
    )
    for row in rows:
        print(
            f"{row.name:34} {row.status_code:>4} {row.rows:>6} {row.queries:>4} "
            f"{row.count_queries:>5} {row.median_ms:>9.1f} {row.min_ms:>7.1f} "
            f"{row.sql_ms:>7.1f} {row.count_ms:>8.1f}"
        )
        if show_sql:
            for ms, sql in row.slowest:
                print(f"    {ms:7.1f} ms  {sql[:150]}")


def run_pages(client, urls, repeat: int) -> list[PageFigures]:
    """Warm every page once, then measure each."""
    for _, url in urls:
        client.get(url)  # warm: templates, caches, PostgreSQL buffers
    return [measure(client, name, url, repeat) for name, url in urls]


def prepare(database: str, count: int):
    """A fresh database with ``count`` payments; returns the superuser."""
    env = common.bench_env(database)
    common.recreate_database(database)
    common.setup_django(env)
    common.migrate()
    common.flush_redis_dbs(9, 10)
    started = time.perf_counter()
    admin_user = create_data(count)
    elapsed = time.perf_counter() - started
    print(f"Created {count} bookings and payments in {elapsed:.0f} s")
    return admin_user


def logged_in_client(admin_user):
    """A test Client logged in as ``admin_user``, plain static storage."""
    from django.test import Client, override_settings

    # No collectstatic here: plain static URLs instead of the manifest's
    # (the same dict-lookup cost, no files to write).
    override_settings(STORAGES=PLAIN_STATIC).enable()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(admin_user)
    return client


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 1 when SQL per page varies or a page fails."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--show-sql", action="store_true", help="slowest 3 SQL")
    parser.add_argument("--database", default="hky_bench_admin")
    args = parser.parse_args(argv)

    client = logged_in_client(prepare(args.database, args.n))
    common.print_machine()
    from django.contrib import admin

    from payments.models import Payment

    model_admin = admin.site._registry[Payment]
    urls = pages(args.n, model_admin.list_per_page)
    print(f"\nDjango test Client in-process, median of {args.repeat} requests:")
    rows = run_pages(client, urls, args.repeat)
    print_figures(rows, show_sql=args.show_sql)

    model_admin.show_full_result_count = False
    print("\nThe changelist with show_full_result_count = False:")
    fixed = run_pages(client, urls[:-1], args.repeat)
    print_figures(fixed, show_sql=False)

    list_queries = {row.queries for row in rows[:-1]}
    constant = len(list_queries) == 1
    ok_http = all(row.status_code == 200 for row in rows + fixed)
    print(
        f"\nSQL per changelist page: {sorted(list_queries)} -> constant: "
        f"{common.verdict(constant)}; every page 200: {common.verdict(ok_http)}"
    )
    return 0 if constant and ok_http else 1


if __name__ == "__main__":
    sys.exit(main())
