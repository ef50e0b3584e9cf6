"""compute-daily-kpis: P's trend form from the users' answers and the θ slope prior (METRICS_P_SLOPE_PRIOR)."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from sqlalchemy import Engine, text
from tests.factories import load, steady_learner

from dreamseed.runtime.registry import load_job
from dreamseed.runtime.runner import EXIT_OK, execute
from dreamseed.settings import Settings

DAY = date(2026, 11, 20)
LEARNERS = 32


@pytest.fixture
def platform(engine: Engine) -> Engine:
    """Learners whose accuracy rises over 20 days, on items 100–139; "one" and "two" have a dated goal,
    "one" a single θ point and "two" two."""
    lines = [line for k in range(LEARNERS) for line in steady_learner(f"l{k:02d}", "2026-11-01", 20)]
    load(engine, steady_learner("one", "2026-11-01", 20) + steady_learner("two", "2026-11-01", 20) + lines)
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


def _calibrate_items(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO mirt_item_params (item_id, model, params, version) "
                "SELECT i::text, '2PL', jsonb_build_object('a', 1.0, 'b', 0.0, 'c', 0.0), 'v1' "
                "FROM generate_series(100, 139) i"
            )
        )


def _p(engine: Engine) -> dict[str, tuple[str, float]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT user_id, kpis FROM weekly_kpi WHERE user_id IN ('one', 'two')")
        ).all()
    documents = {user: kpis if isinstance(kpis, dict) else json.loads(kpis) for user, kpis in rows}
    return {user: (document["P_method"], document["P"]) for user, document in documents.items()}


def _prior_line(output: str) -> str:
    return re.findall(r"θ slope prior: .*", output)[-1]


def test_p_projects_the_growth_fitted_to_the_answers(
    platform: Engine, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    _calibrate_items(platform)
    assert execute(load_job("compute-daily-kpis"), settings, platform, run_date=DAY) == EXIT_OK
    line = _prior_line(capsys.readouterr().out)
    assert f"(from {LEARNERS + 2} users' answers)" in line
    # Accuracy 0.4 → 0.8 in 20 days on items at b = 0: θ from about −0.4 to 1.4, ≈ +0.09 a day.
    mean = re.search(r"mean=([-0-9.]+)/day", line)
    assert mean is not None, line
    assert float(mean.group(1)) > 0.05
    p = _p(platform)
    assert p["one"][0] == p["two"][0] == "trend"
    # θ today ≈ 1.4 and still rising: the 0.5 target is all but certain.
    assert p["one"][1] > 0.95


def test_with_the_prior_off_the_default_prior_is_used(
    platform: Engine, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    _calibrate_items(platform)
    off = settings.model_copy(update={"metrics_p_slope_prior": "off"})
    assert execute(load_job("compute-daily-kpis"), off, platform, run_date=DAY) == EXIT_OK
    assert "mean=0.0000/day, sd=0.0200/day (default" in _prior_line(capsys.readouterr().out)
    assert _p(platform)["one"][0] == "trend"


def test_without_calibrated_items_p_comes_from_the_theta_history(
    platform: Engine, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert execute(load_job("compute-daily-kpis"), settings, platform, run_date=DAY) == EXIT_OK
    assert "(default" in _prior_line(capsys.readouterr().out)
    p = _p(platform)
    # "one": θ 0.1 ± 0.3 and the default prior N(0, 0.02²/day) over 41 days: P well inside (0, 1).
    assert p["one"][0] == p["two"][0] == "trend"
    assert 0.2 < p["one"][1] < 0.8
