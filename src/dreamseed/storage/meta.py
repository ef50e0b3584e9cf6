"""The `dreamseed_meta` facts and whole-database housekeeping used by the demo and evaluation."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, text


def get(engine: Engine, key: str) -> Any:
    with engine.connect() as connection:
        return connection.execute(
            text("SELECT value FROM dreamseed_meta WHERE key = :k"), {"k": key}
        ).scalar()


def put(engine: Engine, key: str, value: Any) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO dreamseed_meta (key, value) VALUES (:k, CAST(:v AS jsonb)) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()"
            ),
            {"k": key, "v": json.dumps(value)},
        )


USER_TABLES: dict[str, str] = {
    "exam_results": "SELECT count(*), max(xmin::text::bigint) FROM exam_results",
    "session": "SELECT count(*), max(xmin::text::bigint) FROM session",
    "question": (
        "SELECT count(*), md5(string_agg((id, topic_id, difficulty, content, meta - 'irt')::text, ','"
        " ORDER BY id)) FROM question"
    ),
    "interest_goal": "SELECT count(*), max(xmin::text::bigint) FROM interest_goal",
    "ingest_quarantine": "SELECT count(*), max(xmin::text::bigint) FROM ingest_quarantine",
    "model_artifacts": "SELECT count(*), max(xmin::text::bigint) FROM model_artifacts",
}
"""The tables only users write (ingestion, model training), each with a query for its row count and a
token that changes on any insert, update or delete. The jobs write none of them, except the IRT
parameters they store in ``question.meta.irt``, which the question token leaves out."""


def user_data_fingerprint(engine: Engine) -> dict[str, list[Any]]:
    """Per user table: [row count, change token] (see `USER_TABLES`)."""
    with engine.connect() as connection:
        return {
            table: [
                None if value is None else str(value) if index else int(value)
                for index, value in enumerate(connection.execute(text(query)).one())
            ]
            for table, query in USER_TABLES.items()
        }


def nonempty_tables(engine: Engine) -> dict[str, int]:
    """Row counts of every product table that holds rows (what a wipe would delete)."""
    with engine.connect() as connection:
        tables = _product_tables(connection)
        counts = {
            table: int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in tables
        }
    return {table: count for table, count in counts.items() if count}


def _product_tables(connection: Connection) -> list[str]:
    return list(
        connection.execute(
            text(
                "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()"
                " AND tablename <> 'alembic_version' ORDER BY tablename"
            )
        )
        .scalars()
        .all()
    )


def wipe_data(engine: Engine) -> None:
    """Empty every table the product uses (and any added by later migrations), in one statement."""
    with engine.begin() as connection:
        tables = _product_tables(connection)
        if tables:
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY"))


def row_counts(engine: Engine, tables: tuple[str, ...]) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table: int(connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one())
            for table in tables
        }


def most_active_user(engine: Engine, week_start: date) -> str | None:
    """A user active in the ISO week starting at week_start with the longest history up to it (their
    report shows every section)."""
    with engine.connect() as connection:
        return connection.execute(
            text(
                "SELECT user_id FROM features_topic_daily WHERE date < :start + 7 GROUP BY user_id "
                "HAVING max(date) >= :start ORDER BY count(DISTINCT date) DESC, sum(attempts) DESC, user_id LIMIT 1"
            ),
            {"start": week_start},
        ).scalar()
