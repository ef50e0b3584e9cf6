"""read_attempts: the same answers as a plain read of attempt_fact, across slices, shards and users."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from sqlalchemy import Engine, text
from tests.factories import at, exam_result, load, question

from dreamseed.storage import activity
from dreamseed.storage.shard import Shard, sql_filter

FIRST, LAST = date(2026, 9, 1), date(2026, 10, 5)  # 35 days: three slices of at most 14 days


def _platform(engine: Engine) -> None:
    lines = []
    for n, day in enumerate([FIRST - timedelta(days=1), FIRST, date(2026, 9, 14), date(2026, 9, 15), LAST]):
        for user in ("ana", "bo", "cy"):
            questions = [
                question(n * 10 + 1, True, seconds=12.5, topic="algebra", hints=2),
                question(n * 10 + 2, False, seconds=0.0, topic="geometry"),
                question(n * 10 + 3, True, seconds=7.0, topic=None),  # type: ignore[arg-type]
            ]
            lines.append(exam_result(f"s-{user}-{n}", user, at(day.isoformat(), 23, 59), questions))
    lines.append(
        exam_result("late", "ana", at((LAST + timedelta(days=1)).isoformat(), 0, 0), [question(99, True)])
    )
    load(engine, lines)


def _plain(engine: Engine, shard: Shard, users: list[str] | None) -> pd.DataFrame:
    query = f"""
        SELECT user_id, item_id, coalesce(hashtextextended(topic_id, 0), 0) AS topic_id, correct,
               response_time_ms, hints, completed_at, hashtextextended(session_id, 0) AS session_id
        FROM attempt_fact
        WHERE completed_at >= :start AND completed_at < :end AND {sql_filter("user_id")}
    """
    with engine.connect() as connection:
        params = {
            "start": FIRST,
            "end": LAST + timedelta(days=1),
            "shard_count": shard.count,
            "shard_index": shard.index,
        }
        frame = pd.DataFrame(connection.execute(text(query), params).mappings().all())
    frame["hint_used"] = frame["hints"] > 0
    frame["completed_at"] = pd.to_datetime(frame["completed_at"], utc=True)
    return frame[frame["user_id"].isin(users)] if users is not None else frame


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    plain = frame.astype({"user_id": str}).sort_values(["user_id", "item_id"]).reset_index(drop=True)
    return plain[sorted(plain.columns)]


@pytest.mark.parametrize("server_filter_max_users", [1000, 1], ids=["users-in-query", "users-after-read"])
def test_read_attempts_returns_exactly_the_window_for_any_shard_and_user_list(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, server_filter_max_users: int
) -> None:
    monkeypatch.setattr(activity, "SERVER_FILTER_MAX_USERS", server_filter_max_users)
    _platform(engine)
    for shard, users in [
        (Shard.whole(), None),
        (Shard(1, 2), None),
        (Shard.whole(), ["ana", "cy", "nobody"]),
    ]:
        with engine.connect() as connection:
            read = activity.read_attempts(connection, FIRST, LAST, shard, users)
        expected = _plain(engine, shard, users)
        assert len(read) == len(expected) > 0
        pd.testing.assert_frame_equal(_sorted(read), _sorted(expected), check_dtype=False)
    assert len(read) == 2 * 4 * 3  # the day before FIRST and the answer after LAST are outside


def test_read_attempts_of_an_empty_window_is_an_empty_frame(engine: Engine) -> None:
    _platform(engine)
    with engine.connect() as connection:
        read = activity.read_attempts(connection, LAST, FIRST)
    assert read.empty
    assert "session_id" in read.columns


def test_the_user_sample_is_the_same_fixed_subset_of_the_window_s_users(engine: Engine) -> None:
    _platform(engine)
    load(engine, [exam_result("old", "dee", at("2026-08-01"), [question(1, True)])])  # outside the window
    with engine.connect() as connection:
        everyone = activity.read_user_sample(connection, FIRST, LAST, 10)
        two = activity.read_user_sample(connection, FIRST, LAST, 2)
        ranked = connection.execute(
            text("SELECT u FROM unnest(ARRAY['ana', 'bo', 'cy']) u ORDER BY hashtextextended(u, 0)")
        ).scalars()
        assert everyone == list(ranked)
    assert two == everyone[:2]


def test_a_user_range_keeps_the_users_between_its_ends(engine: Engine) -> None:
    _platform(engine)
    load(engine, [exam_result("dee-1", "dee", at("2026-09-20"), [question(1, True)])])
    with engine.begin() as connection:
        for user in ("ana", "bo", "cy", "dee"):
            connection.execute(
                text(
                    "INSERT INTO mirt_ability_history (user_id, run_id, theta, se, fitted_at) "
                    "VALUES (:u, 'r1', 0.5, 0.3, '2026-09-30T03:00:00Z')"
                ),
                {"u": user},
            )
            connection.execute(
                text("INSERT INTO interest_goal (user_id, topic_id, target_level) VALUES (:u, 'algebra', 1)"),
                {"u": user},
            )
    between = activity.UserRange("bo", "cy")
    with engine.connect() as connection:
        assert activity.count_attempts(connection, FIRST, LAST) == (3 * 4 * 3 + 1, 4)
        attempts = activity.read_attempts(connection, FIRST, LAST, Shard.whole(), None, between)
        history = activity.read_theta_history(connection, FIRST, LAST, Shard.whole(), between)
        abilities = activity.read_latest_abilities(connection, LAST, Shard.whole(), between)
        goals = activity.read_goals(connection, Shard.whole(), between)
    assert len(attempts) == 2 * 4 * 3
    for frame in (attempts, history, abilities, goals):
        assert set(frame["user_id"].astype(str)) == {"bo", "cy"}
