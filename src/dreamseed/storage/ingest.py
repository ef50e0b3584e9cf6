"""Bulk loading of platform exports with COPY and set-based upserts.

A whole file is one transaction: a crash part-way leaves the database as it was. Rejected records
are written to `ingest_quarantine` in the same transaction, with their line number and reason.
Each chunk of rows is loaded in a savepoint; if the database refuses it, the rows it refuses are
found and quarantined (`dreamseed.storage.quarantine.isolate_refused`) and the others loaded.
"""

from __future__ import annotations

import itertools
import json
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from sqlalchemy import Connection, Engine, text

from dreamseed.ingest.records import ExamResultRow, Rejected
from dreamseed.storage.attempt_copy import Applied, copy_attempts
from dreamseed.storage.exam_copy import copy_new, insert_sessions, replace_changed
from dreamseed.storage.quarantine import (
    IngestSummary,
    Quarantined,
    isolate_refused,
    line_entries,
    write_quarantine,
)
from dreamseed.storage.table_ingest import load_goals, load_questions

__all__ = [
    "IngestSummary",
    "load_exam_results",
    "load_exam_results_in",
    "load_goals",
    "load_questions",
    "time_ordered_uuid",
]

T = TypeVar("T")
LINE_KIND = "exam_result"


def load_exam_results(
    engine: Engine, records: Iterable[ExamResultRow | Rejected], source: str, chunk_size: int = 20_000
) -> IngestSummary:
    """Upsert exam results by session_id (a newer updated_at wins; an equal or older one changes nothing)
    and materialise their attempts, all in one transaction.

    `records` are the checked lines of one file, processed in chunks: new sessions are COPYed
    straight into exam_results; changed ones are updated and their attempts replaced. Malformed
    questions and lines are returned in the summary with their line numbers and kept in
    ingest_quarantine.
    """
    with engine.begin() as connection:
        return load_exam_results_in(connection, records, source, chunk_size)


def load_exam_results_in(
    connection: Connection, records: Iterable[ExamResultRow | Rejected], source: str, chunk_size: int = 20_000
) -> IngestSummary:
    """`load_exam_results` inside the caller's transaction (the stream consumer commits a batch's
    rows and its θ updates together)."""
    batch_id = uuid.uuid4().hex
    summary = IngestSummary(source)
    connection.execute(text("SELECT set_config('dreamseed.bulk_loader', 'on', true)"))
    connection.execute(text("SET LOCAL work_mem = '256MB'"))
    chunks = _ChunksAhead(records, chunk_size)
    for chunk in chunks:
        summary += _load_records(connection, chunk, source, batch_id, chunks.read_ahead)
    ordered = sorted(summary.rejected, key=lambda r: (r.line_no, r.reason))
    return IngestSummary(
        source, summary.read, summary.inserted, summary.updated, summary.unchanged, tuple(ordered)
    )


def _load_records(
    connection: Connection,
    chunk: list[ExamResultRow | Rejected],
    source: str,
    batch_id: str,
    read_ahead: Callable[[], None],
) -> IngestSummary:
    """One chunk: quarantine its rejected lines, load its rows (isolating any the database refuses);
    `read_ahead` checks the next chunk's lines while the server parses this chunk's exam results."""
    rows = [record for record in chunk if isinstance(record, ExamResultRow)]
    rejected = [record for record in chunk if isinstance(record, Rejected)]
    write_quarantine(connection, source, batch_id, line_entries(LINE_KIND, source, rejected))

    def load(connection: Connection, rows: list[ExamResultRow]) -> IngestSummary:
        counts, problems = _load_rows(connection, rows, source, read_ahead)
        write_quarantine(connection, source, batch_id, problems)
        return counts

    def refuse(row: ExamResultRow, reason: str) -> IngestSummary:
        raw = json.dumps(row.document, ensure_ascii=False, default=str)
        refused = Rejected(row.line_no, reason, raw, row.session_id)
        write_quarantine(connection, source, batch_id, line_entries(LINE_KIND, source, [refused]))
        return IngestSummary(source, rejected=(refused,))

    loaded = isolate_refused(connection, rows, load, refuse)
    return IngestSummary(source, len(chunk), rejected=tuple(rejected)) + loaded


_uuid_sequence = itertools.count()


def time_ordered_uuid() -> str:
    """A UUIDv7 (RFC 9562): milliseconds since the epoch, then a sequence number and random bits.

    New exam results get increasing ids, so the primary keys of exam_results and attempt_fact
    grow at their right edge instead of splitting pages all over the index: loads run faster.
    """
    milliseconds = time.time_ns() // 1_000_000
    sequence = next(_uuid_sequence) & 0xFFF
    random_bits = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (milliseconds << 80) | (0x7 << 76) | (sequence << 64) | (0b10 << 62) | random_bits
    return str(uuid.UUID(int=value))


def _chunks(records: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _ChunksAhead(Iterator[list[T]]):
    """The chunks of `records`; `read_ahead()` reads (and so checks) the next chunk early, once,
    while the server is busy with the current one. An error met reading ahead is raised by the
    next `next()`, outside the savepoint that was loading the current chunk, so it is never taken
    for the database refusing that chunk."""

    def __init__(self, records: Iterable[T], size: int) -> None:
        self._chunks = _chunks(records, size)
        self._ahead: list[T] | None = None
        self._read = False
        self._error: Exception | None = None

    def read_ahead(self) -> None:
        if self._read:
            return
        self._read = True
        try:
            self._ahead = next(self._chunks, None)
        except Exception as error:  # raised by __next__, see the class docstring
            self._error = error

    def __next__(self) -> list[T]:
        self.read_ahead()
        self._read = False
        if self._error is not None:
            raise self._error
        if self._ahead is None:
            raise StopIteration
        chunk, self._ahead = self._ahead, None
        return chunk


def _latest_per_session(rows: list[ExamResultRow]) -> dict[str, ExamResultRow]:
    latest: dict[str, ExamResultRow] = {}
    for row in rows:
        seen = latest.get(row.session_id)
        if seen is None or (row.updated_at, row.line_no) > (seen.updated_at, seen.line_no):
            latest[row.session_id] = row
    return latest


def _split_new_and_changed(
    connection: Connection, latest: dict[str, ExamResultRow]
) -> tuple[Applied, Applied]:
    """Sessions not stored yet (with a new id), and stored ones this chunk has a newer version of."""
    stored = {
        session: (str(identifier), updated)
        for session, identifier, updated in connection.execute(
            text("SELECT session_id, id, updated_at FROM exam_results WHERE session_id = ANY(:sessions)"),
            {"sessions": list(latest)},
        )
    }
    new: Applied = []
    changed: Applied = []
    for session, row in latest.items():
        if session not in stored:
            new.append((time_ordered_uuid(), row))
        elif row.updated_at > stored[session][1]:
            changed.append((stored[session][0], row))
    return new, changed


def _load_rows(
    connection: Connection, rows: list[ExamResultRow], source: str, read_ahead: Callable[[], None]
) -> tuple[IngestSummary, list[Quarantined]]:
    """Write checked rows: the counts (rejected: the malformed questions) and the questions' entries."""
    if not rows:
        return IngestSummary(source), []
    latest = _latest_per_session(rows)
    new, changed = _split_new_and_changed(connection, latest)
    copy_new(connection, new, read_ahead)
    replace_changed(connection, changed)
    problems = copy_attempts(connection, [*new, *changed])
    insert_sessions(connection, [identifier for identifier, _ in new])
    unchanged = len(rows) - len(new) - len(changed)
    counts = IngestSummary(source, 0, len(new), len(changed), unchanged, tuple(p.rejected for p in problems))
    return counts, problems
