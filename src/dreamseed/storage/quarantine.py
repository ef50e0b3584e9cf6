"""What a load reports and keeps: its summary, the one writer of `ingest_quarantine`, and the
fallback that finds the rows the database still refuses.

The line checks (`dreamseed.ingest`) catch every value PostgreSQL is known to refuse. Should the
database refuse a batch anyway, `isolate_refused` retries its halves in savepoints until the
offending rows are alone, and those are quarantined with the database's reason: one bad row
never loses a file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import psycopg
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, StatementError

from dreamseed.ingest.limits import escaped
from dreamseed.ingest.rejected import Rejected

MAX_RAW_CHARS = 4_000_000
T = TypeVar("T")


@dataclass(frozen=True)
class Quarantined:
    """A rejected record and where it goes: its `kind` and the `key` that makes it unique
    (e.g. "source|line" for a line, "exam_result_id|question" for a question). `reason`, when
    given, is what the table keeps instead of the rejection's (a question's, without its prefix)."""

    kind: str
    rejected: Rejected
    key: str
    reason: str | None = None


@dataclass(frozen=True)
class IngestSummary:
    """What one load did. `rejected` lists every rejected record (line-level and question-level)."""

    source: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: tuple[Rejected, ...] = ()

    @property
    def loaded(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def __add__(self, other: IngestSummary) -> IngestSummary:
        return IngestSummary(
            self.source,
            self.read + other.read,
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.rejected + other.rejected,
        )


def line_entries(kind: str, source: str, rejected: Iterable[Rejected]) -> list[Quarantined]:
    """Quarantine entries of whole rejected lines (unique by source, line number, reason, text)."""
    return [Quarantined(kind, r, f"{source}|{r.line_no}") for r in rejected]


def _storable_raw(raw: str) -> str:
    shown = escaped(raw)
    if len(shown) <= MAX_RAW_CHARS:
        return shown
    return shown[:MAX_RAW_CHARS] + f"…[{len(shown) - MAX_RAW_CHARS} more characters not kept]"


def _parameters(source: str, batch_id: str, entry: Quarantined) -> dict[str, object]:
    rejected = entry.rejected
    reason, raw = escaped(entry.reason or rejected.reason), _storable_raw(rejected.raw)
    identity = "|".join((entry.kind, escaped(entry.key), reason, raw))
    return {
        "kind": entry.kind,
        "source": escaped(source),
        "line_no": rejected.line_no,
        "session_id": None if rejected.session_id is None else escaped(rejected.session_id),
        "question_index": rejected.question_index,
        "reason": reason,
        "raw": raw,
        "batch_id": batch_id,
        "fingerprint": hashlib.md5(identity.encode()).hexdigest(),
    }


def write_quarantine(
    connection: Connection, source: str, batch_id: str, entries: Sequence[Quarantined]
) -> None:
    """Keep rejected records in ingest_quarantine; text PostgreSQL cannot hold is escaped, and a
    record already kept (same fingerprint) is not added twice."""
    if not entries:
        return
    connection.execute(
        text(
            """
            INSERT INTO ingest_quarantine (kind, source, line_no, session_id, question_index, reason, raw,
                                           batch_id, fingerprint)
            VALUES (:kind, :source, :line_no, :session_id, :question_index, :reason, :raw, :batch_id,
                    :fingerprint)
            ON CONFLICT (fingerprint) DO NOTHING
            """
        ),
        [_parameters(source, batch_id, entry) for entry in entries],
    )


def refusal_reason(connection: Connection, error: Exception) -> str | None:
    """The database's (or the driver's) reason for refusing a batch, or None when `error` is not a
    refusal of the data (e.g. the connection was lost) and must propagate."""
    if connection.invalidated:  # the connection was lost: the original error propagates
        return None
    raw = connection.connection.dbapi_connection
    if isinstance(raw, psycopg.Connection) and (raw.closed or raw.broken):
        return None
    if isinstance(error, DBAPIError | StatementError):
        error = error.orig if isinstance(error.orig, Exception) else error
    if isinstance(error, psycopg.Error | ValueError | OverflowError | TypeError):
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        return f"refused by the database: {first_line[:200]}"
    return None


_REFUSALS = (psycopg.Error, DBAPIError, StatementError, ValueError, OverflowError, TypeError)


def isolate_refused(
    connection: Connection,
    rows: list[T],
    load: Callable[[Connection, list[T]], IngestSummary],
    refuse: Callable[[T, str], IngestSummary],
) -> IngestSummary:
    """`load(connection, rows)` in a savepoint; if the database refuses it, load each half the same
    way, down to single rows, which become `refuse(row, reason)` (the caller quarantines them)."""
    if not rows:
        return load(connection, rows)
    try:
        with connection.begin_nested():
            return load(connection, rows)
    except _REFUSALS as error:
        reason = refusal_reason(connection, error)
        if reason is None:
            raise
        if len(rows) == 1:
            return refuse(rows[0], reason)
    middle = len(rows) // 2
    return isolate_refused(connection, rows[:middle], load, refuse) + isolate_refused(
        connection, rows[middle:], load, refuse
    )
