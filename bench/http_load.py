"""A low-overhead HTTP/1.1 load generator and a CPU meter for the HTTP benches.

The generator runs every client as a coroutine on one event loop (uvloop when installed) in the
bench's own process, over raw keep-alive sockets: a request is pre-encoded bytes, a response is
read by ``Content-Length``. That costs ~30–60 µs of CPU per call, against ~0.5 ms for an httpx
client in a thread (and the threads' contention for the GIL), so on a 2-core machine the
measurement is not dominated by the client.

``CpuMeter`` splits the CPU time of a stretch of load into the server's process tree, the
PostgreSQL server's process tree (postmaster and its backends), this process (the client) and
everything else on the machine (from /proc/stat).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import psutil


class HttpError(RuntimeError):
    """The server closed the connection or answered something that is not HTTP/1.1 with a length."""


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.transport: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no asyncio.Transport subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._try_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(HttpError(f"connection closed by the server ({exc})"))

    def _try_complete(self) -> None:
        if self.waiter is None or self.waiter.done():
            return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        length = None
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length is None:
            self.waiter.set_exception(HttpError(f"response without Content-Length: {head[0]}"))
            return
        if len(self.buffer) < end + 4 + length:
            return
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        self.waiter.set_result((int(head[0].split(" ", 2)[1]), body))


class Connection:
    """One keep-alive HTTP/1.1 connection; ``call`` sends one request and waits for its answer."""

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None) -> None:
        self.host, self.port = host, port
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self._prefix = f"Host: {host}:{port}\r\n{extra}".encode("latin-1")
        self._protocol: _Protocol | None = None

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        _, self._protocol = await loop.create_connection(_Protocol, self.host, self.port)

    def close(self) -> None:
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.close()

    def request_bytes(self, method: str, path: str, body: bytes | None = None) -> bytes:
        """A complete request (pre-encode it once when it repeats)."""
        if body is None:
            return f"{method} {path} HTTP/1.1\r\n".encode() + self._prefix + b"\r\n"
        return (
            f"{method} {path} HTTP/1.1\r\n".encode()
            + self._prefix
            + f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Status and body of the answer to one pre-encoded request."""
        protocol = self._protocol
        if protocol is None or protocol.closed or protocol.transport is None:
            raise HttpError("connection is not open")
        protocol.waiter = asyncio.get_running_loop().create_future()
        protocol.transport.write(request)
        protocol._try_complete()
        return await protocol.waiter

    async def call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        return await self.send(self.request_bytes(method, path, body))


Script = Callable[[Connection, int], Awaitable[None]]


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:
        return asyncio.new_event_loop()


def run_clients(
    host: str, port: int, concurrency: int, script: Script, headers: dict[str, str] | None = None
) -> float:
    """Run ``script(connection, index)`` for ``concurrency`` clients at once, each on its own
    connection; returns the wall time in seconds (from the first request to the last answer)."""

    async def main() -> float:
        connections = [Connection(host, port, headers) for _ in range(concurrency)]
        await asyncio.gather(*(c.open() for c in connections))
        started = time.perf_counter()
        try:
            await asyncio.gather(*(script(c, k) for k, c in enumerate(connections)))
        finally:
            for connection in connections:
                connection.close()
        return time.perf_counter() - started

    with asyncio.Runner(loop_factory=_new_loop) as runner:
        return runner.run(main())


def _tree_seconds(root: psutil.Process) -> float:
    """CPU seconds (user + system) of ``root``, its live descendants and its reaped children."""
    total = 0.0
    try:
        times = root.cpu_times()
        total += times.user + times.system + times.children_user + times.children_system
        for child in root.children(recursive=True):
            try:
                child_times = child.cpu_times()
                total += child_times.user + child_times.system
            except psutil.NoSuchProcess:
                pass
    except psutil.NoSuchProcess:
        pass
    return total


def _machine_busy_seconds() -> float:
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuSplit:
    """CPU seconds spent during one stretch of load, by whom; ``wall`` in seconds."""

    server: float
    database: float
    client: float
    other: float
    wall: float

    def per_call_ms(self, calls: int) -> tuple[float, float, float]:
        """Milliseconds of CPU per call: server, PostgreSQL, client."""
        return tuple(1000 * v / max(calls, 1) for v in (self.server, self.database, self.client))  # type: ignore[return-value]

    def cell(self, calls: int) -> str:
        """'server / PostgreSQL / client ms per call (other: x cores)' for a table."""
        s, d, c = self.per_call_ms(calls)
        return f"{s:.2f} / {d:.2f} / {c:.2f} (other {self.other / self.wall:.1f} cores)"


class CpuMeter:
    """Measures a block: ``with meter.measure() as result: ...``, then ``result[0]`` is a CpuSplit."""

    def __init__(self, server_pid: int, postmaster_pid: int) -> None:
        self.server, self.database = psutil.Process(server_pid), psutil.Process(postmaster_pid)

    def snapshot(self) -> tuple[float, float, float, float, float]:
        return (
            _tree_seconds(self.server),
            _tree_seconds(self.database),
            time.process_time(),
            _machine_busy_seconds(),
            time.perf_counter(),
        )

    def since(self, before: tuple[float, float, float, float, float]) -> CpuSplit:
        after = self.snapshot()
        server, database, client, busy, wall = (a - b for a, b in zip(after, before, strict=True))
        return CpuSplit(server, database, client, max(busy - server - database - client, 0.0), wall)


def postmaster_pid(backend_pid: int) -> int:
    """The postmaster of a backend (its parent process)."""
    return psutil.Process(backend_pid).ppid()
