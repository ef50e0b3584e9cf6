"""COPY of checked exam results and of their attempt rows (the bulk loader's writes).

Attempt rows are built in Python (`dreamseed.ingest.attempts`, the rules of the database trigger,
which the loader switches off for its own writes) and streamed with binary COPY; the malformed
questions met on the way are returned, not collected as a side effect.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import psycopg
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Connection, text

from dreamseed.ingest.attempts import attempt_or_problem
from dreamseed.ingest.records import ExamResultRow
from dreamseed.ingest.rejected import Rejected
from dreamseed.storage.frames import copy_rows, staging_table
from dreamseed.storage.quarantine import Quarantined

EXAM_COLUMNS = (
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
ATTEMPT_COLUMNS = (
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
ATTEMPT_TYPES = (
    "uuid", "int4", "text", "text", "int8", "bool", "int4", "int4", "timestamptz", "text", "text", "int4",
)  # fmt: skip

Applied = list[tuple[str, ExamResultRow]]  # (exam_results.id, row) of the rows written


def exam_values(identifier: str, row: ExamResultRow) -> tuple[object, ...]:
    document = row.document
    status = document.get("status")
    return (
        identifier,
        row.session_id,
        row.user_id,
        document.get("exam_id"),
        "ready" if status is None else status,
        json_text(document["result_json"]),
        document.get("score_raw"),
        document.get("score_scaled"),
        document.get("standard_error"),
        document.get("percentile"),
        document.get("org_id"),
        row.created_at,
        row.updated_at,
    )


def json_text(value: object) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # integers beyond 64 bits
        return json.dumps(value, ensure_ascii=False)


def copy_new(connection: Connection, new: Applied) -> None:
    copy_rows(
        connection,
        f"COPY exam_results ({', '.join(EXAM_COLUMNS)}) FROM STDIN",
        (exam_values(identifier, row) for identifier, row in new),
    )


def replace_changed(connection: Connection, changed: Applied) -> None:
    """Update the changed exam results and drop their attempts (copy_attempts writes them again)."""
    if not changed:
        return
    staging_table(connection, "staging_exam_results", "(LIKE exam_results)")
    copy_rows(
        connection,
        f"COPY staging_exam_results ({', '.join(EXAM_COLUMNS)}) FROM STDIN",
        (exam_values(identifier, row) for identifier, row in changed),
    )
    assignments = ", ".join(f"{column} = s.{column}" for column in EXAM_COLUMNS[2:])
    connection.execute(
        text(f"UPDATE exam_results e SET {assignments} FROM staging_exam_results s WHERE e.id = s.id")
    )
    connection.execute(
        text("DELETE FROM attempt_fact a USING staging_exam_results s WHERE a.exam_result_id = s.id")
    )


def _question_outcomes(applied: Applied) -> Iterator[tuple[Any, ...] | Quarantined]:
    """Per question of the applied rows: its attempt row, or its quarantine entry."""
    for exam_result_id, row in applied:
        identifier = uuid.UUID(exam_result_id)
        exam_id = row.document.get("exam_id")
        user_id, completed_at, session_id = row.user_id, row.updated_at, row.session_id
        for index, question in enumerate(row.document["result_json"]["questions"], start=1):
            values = attempt_or_problem(question)
            if isinstance(values, str):
                raw = json.dumps(question, ensure_ascii=False, sort_keys=True)
                rejected = Rejected(row.line_no, f"question {index}: {values}", raw, row.session_id, index)
                yield Quarantined("question", rejected, f"{exam_result_id}|{index}", values)
                continue
            key, item, correct, milliseconds, hints, topic = values
            # The key is kept only when it is not item_id's plain digits: the digits (ASCII, no
            # sign or space) spell item_id unless they have a leading zero.
            plain = key[0] != "0" or len(key) == 1 if key.isascii() and key.isdigit() else key == str(item)
            yield (
                identifier,
                index,
                None if plain else key,
                user_id,
                item,
                correct,
                milliseconds,
                hints,
                completed_at,
                session_id,
                topic,
                exam_id,
            )


def copy_attempts(connection: Connection, applied: Applied) -> list[Quarantined]:
    """COPY the attempts of the applied rows; returns the malformed questions, to be quarantined."""
    problems: list[Quarantined] = []
    raw = connection.connection.dbapi_connection
    assert isinstance(raw, psycopg.Connection)
    statement = f"COPY attempt_fact ({', '.join(ATTEMPT_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
    with raw.cursor() as cursor, cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy:
        copy.set_types(list(ATTEMPT_TYPES))
        for outcome in _question_outcomes(applied):
            if isinstance(outcome, Quarantined):
                problems.append(outcome)
            else:
                copy.write_row(outcome)
    return problems


def insert_sessions(connection: Connection, exam_result_ids: list[str]) -> None:
    """A `session` row per new exam session, from created_at to updated_at (the platform's own
    rows are never overwritten)."""
    if not exam_result_ids:
        return
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
