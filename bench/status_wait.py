"""Benchmark: the outcome on screen, 200 clients waiting (issue 18, item 5).

    python bench/status_wait.py [--clients 200] [--rate 40] [--asgi-workers 2]

Each client has its own token and pending payment and waits on
``GET /api/payment/mpesa/status/<CheckoutRequestID>?wait=30`` served by
uvicorn (``hakiyetu.asgi``, as deploy/systemd/hakiyetu-asgi.service runs
it). Once all are waiting, every payment's success callback is posted once,
``--rate`` per second, to the real callback endpoint on gunicorn (the
deploy's WSGI service); the processes share PostgreSQL and Redis (the
wake-ups' pub/sub). Printed: the time from each callback being stored to
its client's answer, p50 and p99, measured two ways: from the callback's
send (an upper bound: it includes storing it) and from its acknowledgement
(a lower bound: the commit came before it). Targets: p50 < 0.3 s and
p99 < 1 s (from the send). Also: every client answered ``completed``,
every payment completed exactly once, and uvicorn's CPU per client.
"""

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.callbacks import callback_body, callback_path, check_exactly_once  # noqa: E402
from bench.loadgen import build_request  # noqa: E402
from bench.status_polling import create_pollers  # noqa: E402

TARGET_P50 = 0.3
TARGET_P99 = 1.0


class Uvicorn:
    """``uvicorn hakiyetu.asgi:application`` on loopback, stopped on exit."""

    def __init__(self, env: dict[str, str], *, workers: int) -> None:
        self.port = common.free_port()
        self.argv = [
            str(common.VENV_BIN / "uvicorn"),
            "hakiyetu.asgi:application",
            f"--workers={workers}",
            "--host=127.0.0.1",
            f"--port={self.port}",
            "--limit-concurrency=1000",
            "--backlog=2048",
            "--no-access-log",
        ]
        self.env = env
        self.process: subprocess.Popen | None = None

    @property
    def description(self) -> str:
        return " ".join(["uvicorn", *self.argv[1:3]])

    def __enter__(self) -> "Uvicorn":
        common.OUT_DIR.mkdir(parents=True, exist_ok=True)
        log = (common.OUT_DIR / "uvicorn.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 (our own argv)
            self.argv, cwd=common.ROOT, env=self.env, stdout=log, stderr=log
        )
        common.wait_for_port(self.port)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()


async def _exchange(port: int, request: bytes) -> tuple[int, bytes]:
    """Send one request on its own connection; (status, body) at the end."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        answer = await reader.read()  # Connection: close
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


async def _wait(port: int, token: str, checkout_id: str, wait: int) -> tuple:
    request = build_request(
        "GET",
        f"/api/payment/mpesa/status/{checkout_id}?wait={wait}",
        headers={"Authorization": f"Token {token}", "Connection": "close"},
    )
    status, body = await _exchange(port, request)
    answered = time.time()  # wall clock: compared with the stored event's
    payment_status = json.loads(body).get("status") if status == 200 else None
    return answered, status, payment_status


async def _callback(port: int, index: int) -> tuple[float, float, int]:
    request = build_request(
        "POST",
        callback_path(),
        body=callback_body(index),
        headers={"Connection": "close"},
    )
    sent = time.time()
    status, _ = await _exchange(port, request)
    return sent, time.time(), status


async def _run(args, pollers: dict, asgi_port: int, wsgi_port: int) -> dict:
    """``pollers``: index -> (token, CheckoutRequestID)."""
    waits = {
        index: asyncio.create_task(_wait(asgi_port, token, checkout_id, args.wait))
        for index, (token, checkout_id) in pollers.items()
    }
    await asyncio.sleep(args.settle)  # every client's first look is done
    order = list(pollers)
    random.shuffle(order)
    callbacks = {}
    for index in order:
        callbacks[index] = asyncio.create_task(_callback(wsgi_port, index))
        await asyncio.sleep(1 / args.rate)
    return {
        "answers": {i: await task for i, task in waits.items()},
        "callbacks": {i: await task for i, task in callbacks.items()},
    }


def stored_at(indexes: list[int]) -> dict[int, float]:
    """When each callback's raw event was stored (its row's created_at)."""
    from bench import fixtures
    from payments.models import PaymentEvent

    by_id = {fixtures.checkout_id(i): i for i in indexes}
    events = PaymentEvent.objects.filter(
        kind=PaymentEvent.Kind.CALLBACK, checkout_request_id__in=list(by_id)
    ).values_list("checkout_request_id", "created_at")
    return {by_id[cid]: created.timestamp() for cid, created in events}


def _latency(values: list[float]) -> str:
    return (
        f"p50 {common.percentile(values, 0.5) * 1000:.0f} ms, "
        f"p99 {common.percentile(values, 0.99) * 1000:.0f} ms, "
        f"max {max(values) * 1000:.0f} ms"
    )


def report(args, run: dict, cpu_seconds: float) -> bool:
    answers, callbacks = run["answers"], run["callbacks"]
    stored = stored_at(list(callbacks))
    from_stored = [answers[i][0] - stored[i] for i in callbacks if i in stored]
    from_sent = [answers[i][0] - callbacks[i][0] for i in callbacks]
    from_ack = [max(0.0, answers[i][0] - callbacks[i][1]) for i in callbacks]
    states = [state for _, _, state in answers.values()]
    completed = states.count("completed")
    others = Counter((status, state) for _, status, state in answers.values())
    others.pop((200, "completed"), None)
    acknowledged = sum(1 for *_, status in callbacks.values() if status == 200)
    p50 = common.percentile(from_stored, 0.5)
    p99 = common.percentile(from_stored, 0.99)
    ok = p50 < TARGET_P50 and p99 < TARGET_P99 and completed == len(answers)
    print(
        f"Clients: {len(answers)} waiting (?wait={args.wait}), {completed} "
        f"answered completed; callbacks acknowledged 200: {acknowledged}"
    )
    if others:
        print(f"  other answers (HTTP status, payment status): {dict(others)}")
    print("Callback stored (its raw event's created_at) -> its client's answer:")
    print(f"  {_latency(from_stored)}")
    print(f"  from the callback's send (upper bound): {_latency(from_sent)}")
    print(f"  from its acknowledgement (lower bound): {_latency(from_ack)}")
    print(
        f"Targets p50 < {TARGET_P50 * 1000:.0f} ms, p99 < {TARGET_P99 * 1000:.0f} ms: "
        f"{common.verdict(ok)}"
    )
    print(
        f"uvicorn CPU: {cpu_seconds:.2f} s in all, "
        f"{cpu_seconds / len(answers) * 1000:.1f} ms per waiting client"
    )
    return ok


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rate", type=float, default=40, help="callbacks per s")
    parser.add_argument("--wait", type=int, default=30, help="?wait= seconds")
    parser.add_argument("--settle", type=float, default=3.0, help="s before callbacks")
    parser.add_argument("--warmup", type=int, default=10, help="clients, unmeasured")
    parser.add_argument("--asgi-workers", type=int, default=2)
    parser.add_argument("--wsgi-workers", type=int, default=2)
    parser.add_argument("--database", default="hky_bench_status_wait")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if max(args.clients, args.warmup) / args.rate + args.settle >= args.wait:
        raise SystemExit("the callbacks would outlast the wait: raise --rate")
    env = common.bench_env(args.database)
    common.recreate_database(args.database)
    common.setup_django(env)
    common.migrate()
    common.flush_redis_dbs(9, 10)
    everyone = dict(enumerate(create_pollers(args.warmup + args.clients)))
    warm = {i: everyone[i] for i in range(args.warmup)}
    measured = {i: everyone[i] for i in range(args.warmup, len(everyone))}
    common.print_machine()
    from django.db import connection

    connection.close()
    full_env = {**os.environ, **env, "CONN_MAX_AGE": "0"}  # as the unit sets
    asgi = Uvicorn(full_env, workers=args.asgi_workers)
    wsgi = common.Gunicorn(
        env, workers=args.wsgi_workers, worker_class="gthread", threads=4
    )
    with asgi, wsgi:
        # Warm-up: every process's first requests import and connect.
        asyncio.run(_run(args, warm, asgi.port, wsgi.port))
        meter = common.CpuMeter(asgi.process.pid, args.database)
        before = meter.sample()
        run = asyncio.run(_run(args, measured, asgi.port, wsgi.port))
        asgi_cpu, _ = meter.used(before, meter.sample())
    print(f"Servers: {asgi.description} (waits), {wsgi.description} (callbacks)")
    print(f"Load: {args.clients} clients, callbacks at {args.rate:.0f}/s, shuffled")
    ok = report(args, run, asgi_cpu)
    once = check_exactly_once(0, len(everyone))
    print(f"Payments (warm-up included): {once}")
    ok = ok and once["completed_once"] == len(everyone)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
