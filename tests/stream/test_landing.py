"""Events published to a real JetStream stream land in PostgreSQL once, as the file loader lands them."""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine, text
from tests.factories import load
from tests.stream.harness import (
    acked_through,
    consume_until,
    count,
    publish,
    publish_with_ids,
    sessions,
    with_org,
)

from dreamseed.settings import Settings

SESSIONS = "SELECT count(*) FROM exam_results"
ATTEMPTS = "SELECT count(*) FROM attempt_fact"


def landed_rows(engine: Engine) -> list[tuple[object, ...]]:
    """exam_results and attempts without their generated ids."""
    with engine.connect() as connection:
        exams = connection.execute(
            text("SELECT session_id, user_id, result_json, updated_at, org_id FROM exam_results ORDER BY 1")
        ).all()
        attempts = connection.execute(
            text(
                "SELECT user_id, session_id, item_id, correct, response_time_ms, completed_at "
                "FROM attempt_fact ORDER BY session_id, item_id, completed_at"
            )
        ).all()
    return [*map(tuple, exams), *map(tuple, attempts)]


def test_published_sessions_land_once_like_the_file_path(
    stream_settings: Settings, engine: Engine, database_url: str, admin_url: str
) -> None:
    lines = [with_org(line, 7) for line in sessions(20, 5)]
    published = publish(stream_settings, lines)
    assert (published.sent, published.duplicates) == (100, 0)

    totals = consume_until(stream_settings, engine, lambda: count(engine, SESSIONS) == 100)
    assert totals.events == 100
    assert count(engine, ATTEMPTS) == 800

    with engine.begin() as connection:  # the same lines through the file loader, into a clean copy
        stream_rows = landed_rows(engine)
        connection.execute(text("TRUNCATE exam_results, attempt_fact, session CASCADE"))
    load(engine, lines)
    assert landed_rows(engine) == stream_rows


def test_a_session_published_twice_lands_once(stream_settings: Settings, engine: Engine) -> None:
    lines = sessions(3, 2)
    assert publish(stream_settings, lines).duplicates == 0
    assert publish(stream_settings, lines).duplicates == 6  # Nats-Msg-Id = session_id, within the window
    consume_until(stream_settings, engine, lambda: count(engine, SESSIONS) == 6)
    assert count(engine, ATTEMPTS) == 48


def test_a_repeat_past_the_dedup_window_changes_nothing(stream_settings: Settings, engine: Engine) -> None:
    """A session published again under another message id (as after the window) is delivered, and the
    upsert by session_id leaves the stored row, its attempts and θ as they were."""
    lines = sessions(2, 2)
    publish(stream_settings, lines)
    consume_until(stream_settings, engine, lambda: count(engine, SESSIONS) == 4)
    before = stored_state(engine)
    asyncio.run(publish_with_ids(stream_settings, lines, "again-"))
    totals = consume_until(stream_settings, engine, lambda: acked_through(stream_settings) == 8)
    assert totals.events == 4
    assert stored_state(engine) == before


def stored_state(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for sql in (
                "SELECT id, session_id, updated_at FROM exam_results ORDER BY 1",
                "SELECT count(*) FROM attempt_fact",
                "SELECT user_id, run_id, theta FROM mirt_ability_history ORDER BY 1, 2",
            )
            for row in connection.execute(text(sql))
        ]
