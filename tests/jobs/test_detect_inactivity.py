"""detect-inactivity: who is inactive (threshold boundary, churn window), P and S merged into the
week's KPIs, inactivity episodes opened, kept and closed, dry run, idempotence."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text
from tests.factories import at, exam_result, load, question, steady_learner, table_fingerprints

from dreamseed.evaluation import FEATURE_COLUMNS, MODEL_FORMAT, MODEL_NAME, ChurnModel
from dreamseed.runtime.command import job_command
from dreamseed.runtime.registry import load_job
from dreamseed.runtime.runner import EXIT_OK, execute
from dreamseed.settings import Settings
from dreamseed.storage import model_artifacts

DAY = date(2026, 11, 20)  # a Friday; its ISO week starts on 2026-11-16
WEEK = date(2026, 11, 16)


def sessions(user: str, days_before: list[int], reference: date = DAY) -> list[str]:
    """One 6-question session per listed day (days before `reference`), at 10:00 UTC."""
    return [
        exam_result(
            f"{user}-{n}",
            user,
            at((reference - timedelta(days=d)).isoformat()),
            [question(100 + k, k % 2 == 0) for k in range(6)],
        )
        for n, d in enumerate(days_before)
    ]


@pytest.fixture
def platform(engine: Engine) -> Engine:
    load(
        engine,
        sessions("gone7", [30, 20, 12, 7])  # last seen exactly 7 days before DAY: inactive
        + sessions("gone6", [25, 15, 6])  # 6 days: not yet
        + sessions("gone40", [50, 40])  # inactive for 40 days, still within S's 56-day window
        + sessions("ancient", [80, 60])  # beyond the window: gone, not inactive
        + steady_learner("active", "2026-10-25", 27),  # every day up to DAY
    )
    return engine


def run(engine: Engine, settings: Settings, day: date = DAY, **options: Any) -> int:
    dry_run = options.pop("dry_run", False)
    return execute(
        load_job("detect-inactivity"), settings, engine, run_date=day, dry_run=dry_run, options=options
    )


def episodes(engine: Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT user_id, inactive_since, first_detected_on, last_detected_on, returned_at FROM user_inactivity"
            )
        ).mappings()
        return {row["user_id"]: dict(row) for row in rows}


def week_kpis(engine: Engine, week: date = WEEK) -> dict[str, dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT user_id, kpis FROM weekly_kpi WHERE week_start = :w"), {"w": week}
        ).all()
        return dict(rows)


def without_job_runs(engine: Engine) -> dict[str, str]:
    return {k: v for k, v in table_fingerprints(engine).items() if k != "job_runs"}


def test_inactive_from_exactly_the_threshold_and_within_the_churn_window(
    platform: Engine, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(platform, settings) == EXIT_OK
    assert set(episodes(platform)) == {"gone7", "gone40"}
    out = capsys.readouterr().out
    assert "[INFO] Found 2 inactive users (threshold=7 days); dry_run=False" in out
    assert "[INFO] Summary: processed=2, failed=0, threshold=7 days, duration_ms=" in out


def test_p_and_s_and_the_inactivity_facts_are_merged_into_the_current_week(
    platform: Engine, settings: Settings
) -> None:
    run(platform, settings)
    gone7 = week_kpis(platform)["gone7"]
    assert gone7["inactive"] is True
    assert gone7["inactive_since"] == "2026-11-20"  # last seen 11-13 + 7 days
    assert gone7["days_inactive"] == 7
    assert gone7["inactivity_threshold_days"] == 7
    assert gone7["S"] == gone7["S_v1"]
    assert 0.3 < gone7["S"] <= 1.0  # 7 of 14 horizon days gone: at least 0.3 from recency alone
    assert {"P", "P_static", "P_trend", "S_band", "last_seen_at"} <= set(gone7)
    assert week_kpis(platform)["gone40"]["S"] > gone7["S"]


def test_merge_keeps_the_keys_other_jobs_wrote(platform: Engine, settings: Settings) -> None:
    assert execute(load_job("compute-daily-kpis"), settings, platform, run_date=DAY) == EXIT_OK
    before = week_kpis(platform)["gone7"]
    assert "A_t" in before
    run(platform, settings)
    after = week_kpis(platform)["gone7"]
    for key in ("I_t", "E_t", "R_t", "A_t", "as_of"):
        assert after[key] == before[key]
    assert after["inactive"] is True
    assert "inactive" not in week_kpis(platform)["active"]


def test_dry_run_writes_nothing(
    platform: Engine, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    before = table_fingerprints(platform)
    assert run(platform, settings, dry_run=True) == EXIT_OK
    assert table_fingerprints(platform) == before
    out = capsys.readouterr().out
    assert "Found 2 inactive users (threshold=7 days); dry_run=True" in out
    assert "[DRY_RUN] Would merge P and S of 2 inactive users" in out


def test_a_second_run_changes_nothing(platform: Engine, settings: Settings) -> None:
    run(platform, settings)
    before = without_job_runs(platform)
    run(platform, settings)
    assert without_job_runs(platform) == before


def test_later_runs_keep_the_first_inactive_date(platform: Engine, settings: Settings) -> None:
    run(platform, settings)
    run(platform, settings, DAY + timedelta(days=2))
    episode = episodes(platform)["gone7"]
    assert episode["inactive_since"] == date(2026, 11, 20)
    assert (episode["first_detected_on"], episode["last_detected_on"]) == (DAY, DAY + timedelta(days=2))
    assert week_kpis(platform)["gone7"]["days_inactive"] == 9
    # a larger threshold later does not move the recorded date either
    run(platform, settings, DAY + timedelta(days=3), threshold=10)
    assert episodes(platform)["gone7"]["inactive_since"] == date(2026, 11, 20)


def test_a_user_who_came_back_is_no_longer_inactive(platform: Engine, settings: Settings) -> None:
    run(platform, settings)
    back = DAY + timedelta(days=2)
    load(platform, sessions("gone7", [0], reference=back))
    assert run(platform, settings, back) == EXIT_OK
    episode = episodes(platform)["gone7"]
    assert episode["returned_at"] is not None
    assert episode["returned_at"].date() == back
    kpis = week_kpis(platform)["gone7"]
    assert kpis["inactive"] is False
    assert kpis["days_inactive"] is None
    assert episodes(platform)["gone40"]["returned_at"] is None


def test_a_replay_of_an_earlier_date_does_not_see_the_return(platform: Engine, settings: Settings) -> None:
    load(platform, sessions("gone7", [0], reference=DAY + timedelta(days=2)))
    run(platform, settings)  # as of DAY the return has not happened yet
    assert episodes(platform)["gone7"]["returned_at"] is None
    assert week_kpis(platform)["gone7"]["inactive"] is True


def test_threshold_option_and_no_inactive_users(
    platform: Engine, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    run(platform, settings, threshold=6)
    assert {"gone6", "gone7"} <= set(episodes(platform))
    assert "Found 3 inactive users (threshold=6 days)" in capsys.readouterr().out
    run(platform, settings, date(2026, 10, 20), threshold=30)
    out = capsys.readouterr().out
    assert "[INFO] No inactive users found (threshold=30 days)" in out
    assert "[INFO] Summary: processed=0, failed=0, threshold=30 days, duration_ms=" in out


def test_the_cli_command_takes_threshold_and_date(
    platform: Engine, cli_env: dict[str, str], settings: Settings
) -> None:
    result = CliRunner().invoke(
        job_command(load_job("detect-inactivity")), ["--date", DAY.isoformat(), "--threshold", "7"]
    )
    assert result.exit_code == 0, result.output
    assert "Found 2 inactive users (threshold=7 days); dry_run=False" in result.output
    assert json.loads(json.dumps(week_kpis(platform)["gone7"]))["inactive"] is True


def constant_model(probability: float) -> ChurnModel:
    """A churn model that forecasts `probability` for every user with activity in the window."""
    columns = len(FEATURE_COLUMNS) + 1  # the features and the saturating recency
    return ChurnModel(
        features=tuple(FEATURE_COLUMNS),
        indicators=(),
        fill=(0.0,) * len(FEATURE_COLUMNS),
        center=(0.0,) * columns,
        scale=(1.0,) * columns,
        coefficients=(0.0,) * columns,
        intercept=math.log(probability / (1 - probability)),
        calibration_x=(0.0, 1.0),
        calibration_y=(0.0, 1.0),
    )


def store(engine: Engine, model: ChurnModel, wins: bool) -> int:
    metrics = {
        "heldout": {
            "model": {"roc_auc": 0.9 if wins else 0.7, "brier": 0.1},
            "S_v1": {"roc_auc": 0.8, "brier": 0.2},
        }
    }
    with engine.begin() as connection:
        version = model_artifacts.save_model(
            connection, MODEL_NAME, MODEL_FORMAT, model.to_bytes(), metrics, {}
        )
        assert model_artifacts.activate_model(connection, MODEL_NAME, version)
    return version


@pytest.mark.parametrize("job_name", ["compute-daily-kpis", "detect-inactivity"])
def test_an_active_model_that_beat_s_v1_gives_s(platform: Engine, settings: Settings, job_name: str) -> None:
    version = store(platform, constant_model(0.42), wins=True)
    assert execute(load_job(job_name), settings, platform, run_date=DAY) == EXIT_OK
    gone7 = week_kpis(platform)["gone7"]
    assert gone7["S"] == pytest.approx(0.42)
    assert gone7["S_model"] == pytest.approx(0.42)
    assert gone7["S_source"] == f"churn:v{version}"
    assert gone7["S_v1"] != pytest.approx(0.42)
    assert gone7["S_band"] == "medium"


def test_a_model_that_did_not_beat_s_v1_or_churn_model_off_leaves_s_v1(
    platform: Engine, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    store(platform, constant_model(0.42), wins=False)
    run(platform, settings)
    assert "did not beat S_v1" in capsys.readouterr().out
    gone7 = week_kpis(platform)["gone7"]
    assert gone7["S"] == gone7["S_v1"]
    store(platform, constant_model(0.42), wins=True)
    run(platform, settings.model_copy(update={"churn_model": "off"}))
    assert week_kpis(platform)["gone7"]["S"] == gone7["S_v1"]


def test_model_versions_are_numbered_and_one_is_active(engine: Engine) -> None:
    first = store(engine, constant_model(0.3), wins=True)
    second = store(engine, constant_model(0.4), wins=True)
    assert (first, second) == (1, 2)
    with engine.begin() as connection:
        assert [m.active for m in model_artifacts.list_models(connection, MODEL_NAME)] == [True, False]
        active = model_artifacts.read_active_model(connection, MODEL_NAME)
        assert active is not None
        assert ChurnModel.from_bytes(active.payload) == constant_model(0.4)
        assert model_artifacts.deactivate_models(connection, MODEL_NAME) == 1
        assert model_artifacts.read_active_model(connection, MODEL_NAME) is None
        assert not model_artifacts.activate_model(connection, MODEL_NAME, 99)
