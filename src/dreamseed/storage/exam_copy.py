"""COPY of checked exam results, the update of changed ones and their sessions (the bulk loader's
writes); their attempt rows are written by `dreamseed.storage.attempt_copy`.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import orjson
import psycopg
from sqlalchemy import Connection, text

from dreamseed.ingest.records import ExamResultRow
from dreamseed.storage.attempt_copy import Applied
from dreamseed.storage.copy_writer import BlockWriter
from dreamseed.storage.frames import copy_rows, staging_table

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


def copy_new(connection: Connection, new: Applied, meanwhile: Callable[[], None] | None = None) -> None:
    """COPY the new exam results; `meanwhile` runs once every row is queued, while the server is
    still parsing their jsonb (the loader checks its next lines then)."""
    raw = connection.connection.dbapi_connection
    assert isinstance(raw, psycopg.Connection)
    statement = f"COPY exam_results ({', '.join(EXAM_COLUMNS)}) FROM STDIN"
    with raw.cursor() as cursor:
        writer = BlockWriter(cursor)
        with cursor.copy(statement, writer=writer) as copy:
            for identifier, row in new:
                copy.write_row(exam_values(identifier, row))
            writer.send_pending()
            if meanwhile is not None:
                meanwhile()


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
