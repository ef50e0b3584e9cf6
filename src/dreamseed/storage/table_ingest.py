"""Upserts of the small tables: the item bank (`question`) and goals (`interest_goal`).

Rows arrive checked (`dreamseed.ingest.table_rows`); the good ones are upserted as one JSON
parameter, the rejected ones quarantined, in one transaction. Should the database refuse the
upsert anyway, the offending rows are found by halving the batch and quarantined.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable

from sqlalchemy import Connection, Engine, text

from dreamseed.ingest.records import GoalRow, QuestionRow, Rejected
from dreamseed.storage.quarantine import IngestSummary, isolate_refused, line_entries, write_quarantine

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
    read = list(records)
    rejected = [record for record in read if isinstance(record, Rejected)]
    good = [record for record in read if not isinstance(record, Rejected)]
    batch_id = uuid.uuid4().hex

    def upsert_rows(connection: Connection, rows: list[QuestionRow | GoalRow]) -> IngestSummary:
        if not rows:
            return IngestSummary(source)
        payload = json.dumps([row.__dict__ for row in rows], default=str)
        inserted, updated = (int(n) for n in connection.execute(text(upsert), {"rows": payload}).one())
        return IngestSummary(source, 0, inserted, updated, len(rows) - inserted - updated)

    def refuse(row: QuestionRow | GoalRow, reason: str) -> IngestSummary:
        refused = Rejected(row.line_no, reason, json.dumps(row.__dict__, default=str, ensure_ascii=False))
        write_quarantine(connection, source, batch_id, line_entries(kind, source, [refused]))
        return IngestSummary(source, rejected=(refused,))

    with engine.begin() as connection:
        write_quarantine(connection, source, batch_id, line_entries(kind, source, rejected))
        loaded = isolate_refused(connection, good, upsert_rows, refuse)
    summary = IngestSummary(source, len(read), rejected=tuple(rejected)) + loaded
    return IngestSummary(
        source,
        summary.read,
        summary.inserted,
        summary.updated,
        summary.unchanged,
        tuple(sorted(summary.rejected, key=lambda r: (r.line_no, r.reason))),
    )
