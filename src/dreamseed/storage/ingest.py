"""Bulk loading of platform exports: COPY into a staging table, then one set-based upsert.

A whole file is one transaction: a crash part-way leaves the database as it was. Rejected records
are written to `ingest_quarantine` in the same transaction, with their line number and reason.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

import psycopg
from sqlalchemy import Connection, Engine, text

from dreamseed.ingest.records import ExamResultRow, GoalRow, QuestionRow, Rejected


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
    engine: Engine, records: Iterable[ExamResultRow | Rejected], source: str
) -> IngestSummary:
    """Upsert exam results by session_id (a newer updated_at wins; an equal one changes nothing).

    `records` are the checked lines of one file. The `attempt` rows follow through the
    exam_results triggers; questions they reject are returned in the summary with their line
    numbers.
    """
    summary = IngestSummary(source)
    batch_id = uuid.uuid4().hex
    with engine.begin() as connection:
        connection.execute(text("SELECT set_config('dreamseed.batch_id', :b, true)"), {"b": batch_id})
        connection.execute(text("SET LOCAL work_mem = '256MB'"))
        connection.execute(
            text("CREATE TEMP TABLE staging_exam_results (line_no integer, doc jsonb) ON COMMIT DROP")
        )
        # Staged documents are read once: skip TOAST compression.
        connection.execute(text("ALTER TABLE staging_exam_results ALTER COLUMN doc SET STORAGE EXTERNAL"))
        raw = connection.connection.dbapi_connection
        assert isinstance(raw, psycopg.Connection)
        with (
            raw.cursor() as cursor,
            cursor.copy("COPY staging_exam_results (line_no, doc) FROM STDIN") as copy,
        ):
            for record in records:
                summary.read += 1
                if isinstance(record, Rejected):
                    summary.rejected.append(record)
                else:
                    copy.write_row((record.line_no, record.document))
        _quarantine(connection, "exam_result", source, batch_id, summary.rejected)
        _upsert_exam_results(connection, summary)
        summary.rejected.extend(_question_rejections(connection, source, batch_id))
        _insert_sessions(connection)
    summary.rejected.sort(key=lambda r: r.line_no)
    return summary


def _upsert_exam_results(connection: Connection, summary: IngestSummary) -> None:
    staged = connection.execute(text("SELECT count(*) FROM staging_exam_results")).scalar_one()
    counts = connection.execute(
        text(
            """
            WITH latest AS (
                SELECT DISTINCT ON (doc->>'session_id') doc
                FROM staging_exam_results
                ORDER BY doc->>'session_id',
                         COALESCE(doc->>'updated_at', doc->>'created_at')::timestamptz DESC, line_no DESC
            ), upserted AS (
                INSERT INTO exam_results (session_id, user_id, exam_id, status, result_json, score_raw,
                                          score_scaled, standard_error, percentile, org_id,
                                          created_at, updated_at)
                SELECT doc->>'session_id', doc->>'user_id', (doc->>'exam_id')::integer,
                       COALESCE(doc->>'status', 'ready'), doc->'result_json',
                       (doc->>'score_raw')::numeric, (doc->>'score_scaled')::numeric,
                       (doc->>'standard_error')::numeric, (doc->>'percentile')::numeric,
                       (doc->>'org_id')::integer,
                       COALESCE(doc->>'created_at', doc->>'updated_at')::timestamptz,
                       COALESCE(doc->>'updated_at', doc->>'created_at')::timestamptz
                FROM latest
                ON CONFLICT (session_id) DO UPDATE SET
                    user_id = EXCLUDED.user_id, exam_id = EXCLUDED.exam_id, status = EXCLUDED.status,
                    result_json = EXCLUDED.result_json, score_raw = EXCLUDED.score_raw,
                    score_scaled = EXCLUDED.score_scaled, standard_error = EXCLUDED.standard_error,
                    percentile = EXCLUDED.percentile, org_id = EXCLUDED.org_id,
                    created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at
                WHERE exam_results.updated_at < EXCLUDED.updated_at
                RETURNING (xmax = 0) AS inserted
            )
            SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM upserted
            """
        )
    ).one()
    summary.inserted, summary.updated = int(counts[0]), int(counts[1])
    summary.unchanged = int(staged) - summary.inserted - summary.updated


def _question_rejections(connection: Connection, source: str, batch_id: str) -> list[Rejected]:
    """Questions the trigger quarantined in this load, labelled with the file and line number."""
    rows = connection.execute(
        text(
            """
            UPDATE ingest_quarantine q
            SET source = :source, line_no = s.line_no
            FROM staging_exam_results s
            WHERE q.batch_id = :batch_id AND q.kind = 'question' AND s.doc->>'session_id' = q.session_id
            RETURNING q.line_no, q.question_index, q.reason, q.raw, q.session_id
            """
        ),
        {"source": source, "batch_id": batch_id},
    ).all()
    return [
        Rejected(line_no, f"question {index}: {reason}", raw, session_id)
        for line_no, index, reason, raw, session_id in rows
    ]


def _insert_sessions(connection: Connection) -> None:
    """A `session` row per new exam session, from created_at to updated_at (the platform's own
    rows are never overwritten)."""
    connection.execute(
        text(
            """
            INSERT INTO session (id, exam_id, started_at, ended_at, status, created_at, user_id, org_id)
            SELECT e.session_id, e.exam_id, e.created_at, e.updated_at, e.status, e.created_at, e.user_id, e.org_id
            FROM exam_results e
            JOIN (SELECT DISTINCT doc->>'session_id' AS session_id FROM staging_exam_results) s
              ON s.session_id = e.session_id
            ON CONFLICT (id) DO NOTHING
            """
        )
    )


def load_questions(engine: Engine, records: Iterable[QuestionRow | Rejected], source: str) -> IngestSummary:
    """Upsert the item bank by id; `meta` is merged so keys written by others survive."""
    summary = IngestSummary(source)
    batch_id = uuid.uuid4().hex
    good: list[dict[str, object]] = []
    for record in records:
        summary.read += 1
        if isinstance(record, Rejected):
            summary.rejected.append(record)
        else:
            good.append(record.__dict__)
    with engine.begin() as connection:
        _quarantine(connection, "question_row", source, batch_id, summary.rejected)
        if good:
            counts = connection.execute(
                text(
                    """
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
                        WHERE (question.topic_id, question.difficulty, question.content,
                               question.meta || EXCLUDED.meta)
                              IS DISTINCT FROM (EXCLUDED.topic_id, EXCLUDED.difficulty,
                               COALESCE(EXCLUDED.content, question.content), question.meta)
                        RETURNING (xmax = 0) AS inserted
                    )
                    SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)
                    FROM upserted
                    """
                ),
                {"rows": _json_rows(good)},
            ).one()
            summary.inserted, summary.updated = int(counts[0]), int(counts[1])
            summary.unchanged = len(good) - summary.inserted - summary.updated
    return summary


def load_goals(engine: Engine, records: Iterable[GoalRow | Rejected], source: str) -> IngestSummary:
    """Upsert interest goals by (user_id, topic_id)."""
    summary = IngestSummary(source)
    batch_id = uuid.uuid4().hex
    good: list[dict[str, object]] = []
    for record in records:
        summary.read += 1
        if isinstance(record, Rejected):
            summary.rejected.append(record)
        else:
            good.append(record.__dict__)
    with engine.begin() as connection:
        _quarantine(connection, "goal_row", source, batch_id, summary.rejected)
        if good:
            counts = connection.execute(
                text(
                    """
                    WITH incoming AS (
                        SELECT DISTINCT ON (user_id, topic_id) * FROM jsonb_to_recordset(CAST(:rows AS jsonb))
                            AS r(user_id text, topic_id text, target_level double precision,
                                 priority smallint, target_date date, created_at timestamptz)
                        ORDER BY user_id, topic_id
                    ), upserted AS (
                        INSERT INTO interest_goal (user_id, topic_id, target_level, priority, target_date,
                                                   created_at)
                        SELECT user_id, topic_id, target_level, priority, target_date,
                               COALESCE(created_at, now())
                        FROM incoming
                        ON CONFLICT (user_id, topic_id) DO UPDATE SET
                            target_level = EXCLUDED.target_level, priority = EXCLUDED.priority,
                            target_date = EXCLUDED.target_date, updated_at = now()
                        WHERE (interest_goal.target_level, interest_goal.priority, interest_goal.target_date)
                              IS DISTINCT FROM (EXCLUDED.target_level, EXCLUDED.priority, EXCLUDED.target_date)
                        RETURNING (xmax = 0) AS inserted
                    )
                    SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)
                    FROM upserted
                    """
                ),
                {"rows": _json_rows(good)},
            ).one()
            summary.inserted, summary.updated = int(counts[0]), int(counts[1])
            summary.unchanged = len(good) - summary.inserted - summary.updated
    return summary


def _json_rows(rows: list[dict[str, object]]) -> str:
    import json

    return json.dumps(rows, default=str)
