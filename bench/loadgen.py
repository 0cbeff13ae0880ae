"""A small HTTP/1.1 load generator on asyncio streams (loopback only).

Each prepared request is sent exactly once, over ``concurrency`` keep-alive
connections (reopened when the server says ``Connection: close``), and its
latency is measured from just before the connection or the write to the
last byte of the response. wrk cannot send a fixed list exactly once, which
the callback benchmark needs (each payment's callback once, no extras).
The generator's own CPU time is reported so its share of the machine shows.
"""

import asyncio
import resource
import time
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    wall: float = 0.0
    client_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0


def build_request(
    method: str, path: str, *, body: bytes = b"", headers: dict | None = None
) -> bytes:
    """The bytes of one HTTP/1.1 request to 127.0.0.1."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method == "POST":
        lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionResetError("closed before the status line")
    status = int(status_line.split()[1])
    length, close = 0, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            close = True
    if length:
        await reader.readexactly(length)
    return status, close


async def _connection(port: int, queue: asyncio.Queue, result: LoadResult) -> None:
    reader = writer = None
    while not queue.empty():
        request = queue.get_nowait()
        start = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            status, close = await _read_response(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            result.errors += 1
            if writer is not None:
                writer.close()
            reader = writer = None
            continue
        result.latencies.append(time.perf_counter() - start)
        result.statuses[status] = result.statuses.get(status, 0) + 1
        if close:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def _run(port: int, requests: list[bytes], concurrency: int) -> LoadResult:
    queue: asyncio.Queue = asyncio.Queue()
    for request in requests:
        queue.put_nowait(request)
    result = LoadResult()
    cpu_start = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    await asyncio.gather(
        *(_connection(port, queue, result) for _ in range(concurrency))
    )
    result.wall = time.perf_counter() - start
    cpu_end = resource.getrusage(resource.RUSAGE_SELF)
    result.client_cpu = (cpu_end.ru_utime - cpu_start.ru_utime) + (
        cpu_end.ru_stime - cpu_start.ru_stime
    )
    return result


def send_all(port: int, requests: list[bytes], *, concurrency: int) -> LoadResult:
    """Send every request once with ``concurrency`` connections; wait for all."""
    return asyncio.run(_run(port, requests, concurrency))
