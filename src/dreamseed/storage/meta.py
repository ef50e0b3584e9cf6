"""The `dreamseed_meta` facts and whole-database housekeeping used by the demo and evaluation."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import Engine, text


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


def holds_data(engine: Engine) -> bool:
    """Whether the platform tables hold any row."""
    with engine.connect() as connection:
        return bool(
            connection.execute(
                text(
                    "SELECT EXISTS (SELECT 1 FROM exam_results) OR EXISTS (SELECT 1 FROM question)"
                    " OR EXISTS (SELECT 1 FROM interest_goal)"
                )
            ).scalar()
        )


def wipe_data(engine: Engine) -> None:
    """Empty every table the product uses (and any added by later migrations), in one statement."""
    with engine.begin() as connection:
        tables = (
            connection.execute(
                text(
                    "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()"
                    " AND tablename <> 'alembic_version'"
                )
            )
            .scalars()
            .all()
        )
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
