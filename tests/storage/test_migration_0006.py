"""Migration 0006_unread_exam_indexes: two indexes no statement reads are dropped; the statements
that read exam_results by user return the same rows and use the (user_id, activity) index."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from alembic import command
from sqlalchemy import Connection, Engine, text
from tests.factories import at, exam_result, load, question

from dreamseed.storage import migrate
from dreamseed.storage.cat_store import user_is_known
from dreamseed.storage.console import read_recent_sessions
from dreamseed.storage.evaluation import read_activity_days
from dreamseed.storage.inactivity import read_inactive_users
from dreamseed.storage.user_groups import read_user_groups

DROPPED = {"ix_exam_results_user_exam", "ix_exam_results_org_id"}


def exam_indexes(connection: Connection) -> set[str]:
    rows = connection.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'exam_results'"))
    return set(rows.scalars())


def platform(engine: Engine) -> None:
    lines = []
    for user in range(6):
        for day in range(1, 4 + user):
            line = json.loads(
                exam_result(f"s{user}-{day}", f"u{user}", at(f"2026-10-{day:02d}"), [question(7, True)])
            )
            line["org_id"], line["exam_id"] = user % 3 + 1, day % 2 + 1
            lines.append(json.dumps(line))
    load(engine, lines)


def readers(connection: Connection) -> dict[str, Any]:
    """What the statements that read exam_results return (rows as plain tuples)."""
    return {
        "recent": [
            tuple(row.values()) for user in ("u0", "u5") for row in read_recent_sessions(connection, user)
        ],
        "known": [user_is_known(connection, user) for user in ("u1", "u9")],
        "inactive": read_inactive_users(connection, date(2026, 10, 20), 7, 28).to_dict("records"),
        "days": read_activity_days(connection, date(2026, 10, 1), date(2026, 10, 31)).to_dict("records"),
        "groups": read_user_groups(connection, "org_id").to_dict("records"),
    }


def test_head_drops_only_the_unread_indexes(engine: Engine) -> None:
    with engine.connect() as connection:
        kept = exam_indexes(connection)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert not kept & DROPPED
    assert {"exam_results_pkey", "exam_results_session_id_key", "ix_exam_results_activity"} <= kept
    assert "ix_exam_results_user_activity" in kept


def test_readers_return_the_same_rows_with_and_without_the_indexes(engine: Engine) -> None:
    platform(engine)
    config = migrate._config()
    with engine.begin() as connection:
        after = readers(connection)
        config.attributes["connection"] = connection
        command.downgrade(config, "0005_cat_start")
        assert exam_indexes(connection) >= DROPPED
        before = readers(connection)
        command.upgrade(config, "head")
        assert not exam_indexes(connection) & DROPPED
    assert after == before
    assert len(after["recent"]) == 3 + 8
    assert after["known"] == [True, False]
    assert len(after["groups"]) == 6


def test_a_user_lookup_uses_the_user_activity_index(engine: Engine) -> None:
    platform(engine)
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        plan = connection.execute(
            text(
                "EXPLAIN SELECT session_id FROM exam_results WHERE user_id = 'u1' "
                "ORDER BY COALESCE(updated_at, created_at) DESC LIMIT 15"
            )
        ).scalars()
        assert "ix_exam_results_user_activity" in "\n".join(plan)
