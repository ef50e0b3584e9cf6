"""aggregate-features-daily: the numbers of one (user, topic, day), θ as of that day, I_t."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, text
from tests.factories import at, exam_result, load, question, steady_learner

from dreamseed.runtime.registry import load_job
from dreamseed.runtime.runner import EXIT_OK, execute
from dreamseed.settings import Settings


@pytest.fixture
def features(engine: Engine, settings: Settings) -> dict[tuple[str, str, date], dict[str, object]]:
    load(
        engine,
        [
            exam_result(
                "a",
                "u1",
                at("2026-11-10", 9),
                [
                    question(1, True, 10, "algebra", 0),
                    question(2, False, 30, "algebra", 2),
                    question(3, True, 20, "geometry", 0),
                ],
            ),
            exam_result("b", "u1", at("2026-11-10", 18, 30), [question(4, True, 40, "algebra", 1)]),
            exam_result("c", "u1", at("2026-11-11", 9), [question(5, False, 5, "algebra", 0)]),
            *steady_learner("u2", "2026-10-15", 27),
        ],
    )
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO mirt_ability_history (user_id, run_id, theta, se, fitted_at) VALUES "
                "('u1', 'r1', 0.4, 0.3, '2026-11-09 23:59:59+00'), ('u1', 'r2', 0.9, 0.2, '2026-11-11 12:00:00+00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO student_topic_theta_history (user_id, topic_id, run_id, theta, se, fitted_at) VALUES "
                "('u1', 'geometry', 'r1', -0.5, 0.6, '2026-11-09 23:59:59+00')"
            )
        )
    assert (
        execute(load_job("aggregate-features-daily"), settings, engine, run_date=date(2026, 11, 11))
        == EXIT_OK
    )
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM features_topic_daily")).mappings().all()
    return {(r["user_id"], r["topic_id"], r["date"]): dict(r) for r in rows}


def test_counts_times_and_hints_of_a_day(features: dict[tuple[str, str, date], dict[str, object]]) -> None:
    algebra = features[("u1", "algebra", date(2026, 11, 10))]
    assert (algebra["attempts"], algebra["correct"], algebra["hints"]) == (3, 2, 2)
    assert algebra["avg_time_ms"] == round((10_000 + 30_000 + 40_000) / 3)
    assert algebra["rt_median"] == 30_000
    assert algebra["last_seen_at"] == datetime(2026, 11, 10, 18, 30, tzinfo=UTC)


def test_theta_is_the_latest_per_topic_value_else_the_users_as_of_that_day(
    features: dict[tuple[str, str, date], dict[str, object]],
) -> None:
    assert (
        features[("u1", "geometry", date(2026, 11, 10))]["theta_estimate"],
        features[("u1", "geometry", date(2026, 11, 10))]["theta_sd"],
    ) == (-0.5, 0.6)
    assert (
        features[("u1", "algebra", date(2026, 11, 10))]["theta_estimate"],
        features[("u1", "algebra", date(2026, 11, 10))]["theta_sd"],
    ) == (0.4, 0.3)
    assert features[("u1", "algebra", date(2026, 11, 11))]["theta_estimate"] == 0.9


def test_improvement_is_the_users_index_as_of_that_day(
    features: dict[tuple[str, str, date], dict[str, object]],
) -> None:
    rising = [row["improvement"] for key, row in features.items() if key[0] == "u2"]
    assert rising
    assert all(isinstance(value, float) and value > 0 for value in rising)
    assert features[("u1", "algebra", date(2026, 11, 10))]["improvement"] is None  # no previous window


def test_only_the_lookback_window_is_aggregated(
    features: dict[tuple[str, str, date], dict[str, object]],
) -> None:
    days = {key[2] for key in features}
    assert min(days) == date(2026, 11, 4)
    assert max(days) == date(2026, 11, 11)
