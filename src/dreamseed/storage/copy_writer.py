"""A COPY writer thread that sends large blocks: psycopg's `QueuedLibpqWriter` with coalescing.

psycopg's formatter hands the writer 32 kB at a time. While the loader's own thread is busy in
Python (checking lines, building rows), the writer thread needs the GIL back after every block it
sends, and waits up to the interpreter's switch interval (5 ms) for it: at 32 kB a block the
server can run dry. Coalescing to ~128 kB (psycopg's largest unsplit block) makes that wait four
times rarer for the same data.
"""

from __future__ import annotations

from typing import Any

from psycopg import Cursor
from psycopg.abc import Buffer
from psycopg.copy import QueuedLibpqWriter

BLOCK_BYTES = 120 * 1024  # under psycopg's MAX_BUFFER_SIZE (128 kB), so blocks are not split


class BlockWriter(QueuedLibpqWriter):
    """Queues COPY data to the writer thread in blocks of at least BLOCK_BYTES."""

    def __init__(self, cursor: Cursor[Any]) -> None:
        super().__init__(cursor)
        self._pending = bytearray()

    def write(self, data: Buffer) -> None:
        self._pending += data
        if len(self._pending) >= BLOCK_BYTES:
            self.send_pending()

    def send_pending(self) -> None:
        """Queue what is held back (e.g. before the caller does other work while the server reads)."""
        if self._pending:
            block, self._pending = self._pending, bytearray()
            super().write(block)

    def finish(self, exc: BaseException | None = None) -> None:
        if exc is None:
            self.send_pending()
        super().finish(exc)
