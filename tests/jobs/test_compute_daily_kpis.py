"""compute-daily-kpis: P's trend form with the θ slope prior (METRICS_P_SLOPE_PRIOR)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import Engine, text
from tests.factories import load, steady_learner

from dreamseed.jobs.registry import load_job
from dreamseed.jobs.runner import EXIT_OK, execute
from dreamseed.settings import Settings

DAY = date(2026, 11, 20)


@pytest.fixture
def platform(engine: Engine) -> Engine:
    """Two learners with a dated goal: "one" has a single θ point, "two" has two."""
    load(engine, steady_learner("one", "2026-11-01", 20) + steady_learner("two", "2026-11-01", 20))
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO mirt_ability_history (user_id, run_id, theta, se, fitted_at) VALUES "
                "('one', 'r2', 0.1, 0.3, '2026-11-15T12:00Z'), "
                "('two', 'r1', -0.2, 0.3, '2026-11-08T12:00Z'), ('two', 'r2', 0.1, 0.3, '2026-11-15T12:00Z')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO interest_goal (user_id, topic_id, target_level, priority, target_date) VALUES "
                "('one', 'algebra', 0.5, 1, '2026-12-31'), ('two', 'algebra', 0.5, 1, '2026-12-31')"
            )
        )
    return engine


def _p_methods(engine: Engine) -> dict[str, tuple[str, float]]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT user_id, kpis FROM weekly_kpi")).all()
    documents = {user: kpis if isinstance(kpis, dict) else json.loads(kpis) for user, kpis in rows}
    return {user: (document["P_method"], document["P"]) for user, document in documents.items()}


def test_with_the_slope_prior_a_single_theta_point_gets_a_trend_p(
    platform: Engine, settings: Settings
) -> None:
    assert execute(load_job("compute-daily-kpis"), settings, platform, run_date=DAY) == EXIT_OK
    methods = _p_methods(platform)
    assert methods["one"][0] == "trend"
    assert methods["two"][0] == "trend"
    assert 0 < methods["one"][1] < 1


def test_without_the_slope_prior_a_single_theta_point_falls_back_to_static(
    platform: Engine, settings: Settings
) -> None:
    off = settings.model_copy(update={"metrics_p_slope_prior": "off"})
    assert execute(load_job("compute-daily-kpis"), off, platform, run_date=DAY) == EXIT_OK
    methods = _p_methods(platform)
    assert methods["one"][0] == "static"
    assert methods["two"][0] == "trend"
