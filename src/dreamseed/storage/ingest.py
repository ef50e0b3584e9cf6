"""Bulk loading of platform exports with COPY and set-based upserts.

A whole file is one transaction: a crash part-way leaves the database as it was. Rejected records
are written to `ingest_quarantine` in the same transaction, with their line number and reason.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import orjson
from sqlalchemy import Connection, Engine, text

from dreamseed.ingest.attempts import QuestionProblem, attempt_or_problem
from dreamseed.ingest.records import ExamResultRow, GoalRow, QuestionRow, Rejected
from dreamseed.storage.frames import copy_rows, staging_table

T = TypeVar("T")


@dataclass
class IngestSummary:
    """What one load did. `rejected` lists every rejected record (line-level and question-level)."""

    source: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def loaded(self) -> int:
        return self.inserted + self.updated + self.unchanged


def _fingerprint(*parts: object) -> str:
    return hashlib.md5("|".join(str(part) for part in parts).encode()).hexdigest()


def _quarantine(
    connection: Connection, kind: str, source: str, batch_id: str, rejected: list[Rejected]
) -> None:
    if not rejected:
        return
    connection.execute(
        text(
            """
            INSERT INTO ingest_quarantine (kind, source, line_no, session_id, reason, raw, batch_id, fingerprint)
            VALUES (:kind, :source, :line_no, :session_id, :reason, :raw, :batch_id, :fingerprint)
            ON CONFLICT (fingerprint) DO NOTHING
            """
        ),
        [
            {
                "kind": kind,
                "source": source,
                "line_no": r.line_no,
                "session_id": r.session_id,
                "reason": r.reason,
                "raw": r.raw,
                "batch_id": batch_id,
                "fingerprint": _fingerprint(kind, source, r.line_no, r.reason, r.raw),
            }
            for r in rejected
        ],
    )


def load_exam_results(
    engine: Engine, records: Iterable[ExamResultRow | Rejected], source: str, chunk_size: int = 20_000
) -> IngestSummary:
    """Upsert exam results by session_id (a newer updated_at wins; an equal or older one changes nothing)
    and materialise their attempts, all in one transaction.

    `records` are the checked lines of one file, processed in chunks: new sessions are COPYed
    straight into exam_results; changed ones are updated and their attempts replaced. Attempt rows
    are built in Python (`dreamseed.ingest.attempts`, the same rules as the database trigger, which
    this loader switches off for its own writes) and COPYed. Malformed questions are returned in
    the summary with their line numbers and kept in ingest_quarantine.
    """
    summary = IngestSummary(source)
    batch_id = uuid.uuid4().hex
    line_rejects: list[Rejected] = []
    with engine.begin() as connection:
        connection.execute(text("SELECT set_config('dreamseed.bulk_loader', 'on', true)"))
        connection.execute(text("SET LOCAL work_mem = '256MB'"))
        for chunk in _chunks(records, chunk_size):
            rows = [record for record in chunk if isinstance(record, ExamResultRow)]
            line_rejects.extend(record for record in chunk if isinstance(record, Rejected))
            summary.read += len(chunk)
            _load_chunk(connection, rows, source, batch_id, summary)
        _quarantine(connection, "exam_result", source, batch_id, line_rejects)
    summary.rejected.extend(line_rejects)
    summary.rejected.sort(key=lambda r: (r.line_no, r.reason))
    return summary


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


def _latest_per_session(rows: list[ExamResultRow]) -> dict[str, ExamResultRow]:
    latest: dict[str, ExamResultRow] = {}
    for row in rows:
        seen = latest.get(row.session_id)
        if seen is None or (row.updated_at, row.line_no) > (seen.updated_at, seen.line_no):
            latest[row.session_id] = row
    return latest


def _load_chunk(
    connection: Connection, rows: list[ExamResultRow], source: str, batch_id: str, summary: IngestSummary
) -> None:
    latest = _latest_per_session(rows)
    summary.unchanged += len(rows) - len(latest)
    stored = {
        session: (str(identifier), updated)
        for session, identifier, updated in connection.execute(
            text("SELECT session_id, id, updated_at FROM exam_results WHERE session_id = ANY(:sessions)"),
            {"sessions": list(latest)},
        )
    }
    new: list[tuple[str, ExamResultRow]] = []
    changed: list[tuple[str, ExamResultRow]] = []
    for session, row in latest.items():
        if session not in stored:
            new.append((time_ordered_uuid(), row))
        elif row.updated_at > stored[session][1]:
            changed.append((stored[session][0], row))
    summary.inserted += len(new)
    summary.updated += len(changed)
    summary.unchanged += len(latest) - len(new) - len(changed)
    copy_rows(
        connection,
        f"COPY exam_results ({', '.join(_EXAM_COLUMNS)}) FROM STDIN",
        (_exam_values(identifier, row) for identifier, row in new),
    )
    if changed:
        _replace_changed(connection, changed)
    problems: list[tuple[str, ExamResultRow, QuestionProblem]] = []
    copy_rows(
        connection,
        f"COPY attempt_fact ({', '.join(_ATTEMPT_COLUMNS)}) FROM STDIN (FORMAT BINARY)",
        _attempt_rows([*new, *changed], problems),
        types=_ATTEMPT_TYPES,
    )
    _quarantine_questions(connection, source, batch_id, problems, summary)
    if new:
        _insert_sessions(connection, [identifier for identifier, _ in new])


_EXAM_COLUMNS = (
    "id",
    "session_id",
    "user_id",
    "exam_id",
    "status",
    "result_json",
    "score_raw",
    "score_scaled",
    "standard_error",
    "percentile",
    "org_id",
    "created_at",
    "updated_at",
)
_ATTEMPT_COLUMNS = (
    "exam_result_id",
    "question_index",
    "question_key",
    "user_id",
    "item_id",
    "correct",
    "response_time_ms",
    "hints",
    "completed_at",
    "session_id",
    "topic_id",
    "exam_id",
)


# Binary COPY: the server does not parse text UUIDs and timestamps for every answer.
_ATTEMPT_TYPES = (
    "uuid", "int4", "text", "text", "int8", "bool", "int4", "int4", "timestamptz", "text", "text", "int4",
)  # fmt: skip


def _exam_values(identifier: str, row: ExamResultRow) -> tuple[object, ...]:
    document = row.document
    status = document.get("status")
    return (
        identifier,
        row.session_id,
        row.user_id,
        document.get("exam_id"),
        "ready" if status is None else status,
        _json_text(document["result_json"]),
        document.get("score_raw"),
        document.get("score_scaled"),
        document.get("standard_error"),
        document.get("percentile"),
        document.get("org_id"),
        row.created_at,
        row.updated_at,
    )


def _json_text(value: object) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # integers beyond 64 bits
        return json.dumps(value, ensure_ascii=False)


def _replace_changed(connection: Connection, changed: list[tuple[str, ExamResultRow]]) -> None:
    staging_table(connection, "staging_exam_results", "(LIKE exam_results)")
    copy_rows(
        connection,
        f"COPY staging_exam_results ({', '.join(_EXAM_COLUMNS)}) FROM STDIN",
        (_exam_values(identifier, row) for identifier, row in changed),
    )
    assignments = ", ".join(f"{column} = s.{column}" for column in _EXAM_COLUMNS[2:])
    connection.execute(
        text(f"UPDATE exam_results e SET {assignments} FROM staging_exam_results s WHERE e.id = s.id")
    )
    connection.execute(
        text("DELETE FROM attempt_fact a USING staging_exam_results s WHERE a.exam_result_id = s.id")
    )


def _attempt_rows(
    applied: list[tuple[str, ExamResultRow]], problems: list[tuple[str, ExamResultRow, QuestionProblem]]
) -> Iterator[tuple[object, ...]]:
    for exam_result_id, row in applied:
        identifier = uuid.UUID(exam_result_id)
        exam_id = row.document.get("exam_id")
        completed_at = row.updated_at
        for index, question in enumerate(row.document["result_json"]["questions"], start=1):
            values = attempt_or_problem(question)
            if isinstance(values, str):
                raw = json.dumps(question, ensure_ascii=False, sort_keys=True)
                problems.append((exam_result_id, row, QuestionProblem(index, values, raw)))
                continue
            key, item, correct, milliseconds, hints, topic = values
            yield (
                identifier,
                index,
                None if key == str(item) else key,  # kept only when it is not the plain digits
                row.user_id,
                item,
                correct,
                milliseconds,
                hints,
                completed_at,
                row.session_id,
                topic,
                exam_id,
            )


def _quarantine_questions(
    connection: Connection,
    source: str,
    batch_id: str,
    problems: list[tuple[str, ExamResultRow, QuestionProblem]],
    summary: IngestSummary,
) -> None:
    if not problems:
        return
    rejected = [
        Rejected(row.line_no, f"question {p.index}: {p.reason}", p.raw, row.session_id)
        for _, row, p in problems
    ]
    summary.rejected.extend(rejected)
    connection.execute(
        text(
            """
            INSERT INTO ingest_quarantine (kind, source, line_no, session_id, question_index, reason, raw,
                                           batch_id, fingerprint)
            VALUES ('question', :source, :line_no, :session_id, :question_index, :reason, :raw, :batch_id,
                    :fingerprint)
            ON CONFLICT (fingerprint) DO NOTHING
            """
        ),
        [
            {
                "source": source,
                "line_no": row.line_no,
                "session_id": row.session_id,
                "question_index": p.index,
                "reason": p.reason,
                "raw": p.raw,
                "batch_id": batch_id,
                "fingerprint": _fingerprint("question", identifier, p.index, p.reason, p.raw),
            }
            for identifier, row, p in problems
        ],
    )


def _insert_sessions(connection: Connection, exam_result_ids: list[str]) -> None:
    """A `session` row per new exam session, from created_at to updated_at (the platform's own
    rows are never overwritten)."""
    connection.execute(
        text(
            """
            INSERT INTO session (id, exam_id, started_at, ended_at, status, created_at, user_id, org_id)
            SELECT e.session_id, e.exam_id, e.created_at, e.updated_at, e.status, e.created_at, e.user_id, e.org_id
            FROM exam_results e WHERE e.id = ANY(CAST(:ids AS uuid[]))
            ON CONFLICT (id) DO NOTHING
            """
        ),
        {"ids": exam_result_ids},
    )


_QUESTION_UPSERT = """
    WITH incoming AS (
        SELECT DISTINCT ON (id) * FROM jsonb_to_recordset(CAST(:rows AS jsonb))
            AS r(id bigint, topic_id text, difficulty numeric, content text, meta text)
        ORDER BY id
    ), upserted AS (
        INSERT INTO question (id, topic_id, difficulty, content, meta)
        SELECT id, topic_id, difficulty, content, meta::jsonb FROM incoming
        ON CONFLICT (id) DO UPDATE SET
            topic_id = EXCLUDED.topic_id, difficulty = EXCLUDED.difficulty,
            content = COALESCE(EXCLUDED.content, question.content),
            meta = question.meta || EXCLUDED.meta
        WHERE (question.topic_id, question.difficulty, question.content, question.meta || EXCLUDED.meta)
              IS DISTINCT FROM (EXCLUDED.topic_id, EXCLUDED.difficulty,
                                COALESCE(EXCLUDED.content, question.content), question.meta)
        RETURNING (xmax = 0) AS inserted
    )
    SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM upserted
"""

_GOAL_UPSERT = """
    WITH incoming AS (
        SELECT DISTINCT ON (user_id, topic_id) * FROM jsonb_to_recordset(CAST(:rows AS jsonb))
            AS r(user_id text, topic_id text, target_level double precision,
                 priority smallint, target_date date, created_at timestamptz)
        ORDER BY user_id, topic_id
    ), upserted AS (
        INSERT INTO interest_goal (user_id, topic_id, target_level, priority, target_date, created_at)
        SELECT user_id, topic_id, target_level, priority, target_date, COALESCE(created_at, now())
        FROM incoming
        ON CONFLICT (user_id, topic_id) DO UPDATE SET
            target_level = EXCLUDED.target_level, priority = EXCLUDED.priority,
            target_date = EXCLUDED.target_date, updated_at = now()
        WHERE (interest_goal.target_level, interest_goal.priority, interest_goal.target_date)
              IS DISTINCT FROM (EXCLUDED.target_level, EXCLUDED.priority, EXCLUDED.target_date)
        RETURNING (xmax = 0) AS inserted
    )
    SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM upserted
"""


def load_questions(engine: Engine, records: Iterable[QuestionRow | Rejected], source: str) -> IngestSummary:
    """Upsert the item bank by id; `meta` is merged so keys written by others survive."""
    return _load_small_table(engine, records, source, "question_row", _QUESTION_UPSERT)


def load_goals(engine: Engine, records: Iterable[GoalRow | Rejected], source: str) -> IngestSummary:
    """Upsert interest goals by (user_id, topic_id)."""
    return _load_small_table(engine, records, source, "goal_row", _GOAL_UPSERT)


def _load_small_table(
    engine: Engine, records: Iterable[QuestionRow | GoalRow | Rejected], source: str, kind: str, upsert: str
) -> IngestSummary:
    """Quarantine the rejected rows and upsert the good ones (as one JSON parameter) in one transaction."""
    summary = IngestSummary(source)
    good: list[dict[str, object]] = []
    for record in records:
        summary.read += 1
        if isinstance(record, Rejected):
            summary.rejected.append(record)
        else:
            good.append(record.__dict__)
    with engine.begin() as connection:
        _quarantine(connection, kind, source, uuid.uuid4().hex, summary.rejected)
        if good:
            counts = connection.execute(text(upsert), {"rows": json.dumps(good, default=str)}).one()
            summary.inserted, summary.updated = int(counts[0]), int(counts[1])
            summary.unchanged = len(good) - summary.inserted - summary.updated
    return summary
