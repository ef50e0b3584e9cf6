"""mirt-calibrate on a synthetic platform: what it writes, dry run, idempotence, scale continuity,
filters, and the shared job rules."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, text
from tests.factories import at, exam_result, load, question, table_fingerprints
from tests.jobs.mirt_calibrate.calibration_data import END, answers

from dreamseed.runtime.registry import load_job
from dreamseed.runtime.runner import EXIT_FAILED, EXIT_OK, execute
from dreamseed.settings import Settings
from dreamseed.storage.shard import Shard
from dreamseed.synth import SynthPlatform

JOB = load_job("mirt-calibrate")
NEXT = END + dt.timedelta(days=1)


def frame(engine: Engine, query: str, **params: object) -> pd.DataFrame:
    with engine.connect() as connection:
        result = connection.execute(text(query), params)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def test_a_run_writes_items_abilities_topics_and_fit_metrics(
    platform: Engine,
    settings: Settings,
    synthetic: tuple[SynthPlatform, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert execute(JOB, settings, platform, run_date=END) == EXIT_OK
    out = capsys.readouterr().out
    window = answers(synthetic[0])
    window = window[window["day"] >= END - dt.timedelta(days=29)]
    assert f"[INFO] Loaded {len(window)} observations from attempt VIEW" in out
    assert "[INFO] Loaded 8 anchors/seeds from question.meta" in out
    assert "[INFO] Model: 2PL, Anchors: 8 " in out
    users, items = window["user_id"].nunique(), window["item_id"].nunique()
    assert f"Calibration upsert completed: {items} items, {users} abilities" in out

    run_id = "mirt-2PL-v1-2026-11-20"
    fitted_at = pd.Timestamp("2026-11-20 23:59:59.999", tz="UTC")
    latest = frame(platform, "SELECT * FROM mirt_item_params")
    assert len(latest) == items
    assert set(latest["run_id"]) == {run_id}
    assert set(latest["fitted_at"]) == {fitted_at}
    assert len(frame(platform, "SELECT * FROM mirt_item_params_history")) == items
    history = frame(platform, "SELECT * FROM mirt_ability_history")
    assert len(history) == users
    assert set(history["source"]) == {"calibration"}
    assert set(history["fitted_at"]) == {fitted_at}
    assert len(frame(platform, "SELECT * FROM mirt_ability")) == users
    topics = frame(platform, "SELECT * FROM student_topic_theta")
    assert len(topics) == window.groupby(["user_id", "topic_id"]).ngroups
    assert len(frame(platform, "SELECT * FROM student_topic_theta_history")) == len(topics)

    meta = frame(platform, "SELECT model_spec, metrics FROM mirt_fit_meta WHERE run_id = :r", r=run_id)
    metrics, spec = meta["metrics"][0], meta["model_spec"][0]
    for key in ("loglik", "aic", "bic", "iterations", "converged", "item_fit", "drift", "reliability"):
        assert key in metrics, key
    assert metrics["converged"] is True
    assert (metrics["n_persons"], metrics["n_items"], metrics["n_obs"]) == (users, items, len(window))
    assert spec["window"] == {"first_day": "2026-10-22", "last_day": "2026-11-20"}
    assert spec["fixed_items"] == {"anchors": 8, "frozen": 0}


def test_parameters_recover_the_truth_and_anchors_stay_exact(
    platform: Engine, settings: Settings, synthetic: tuple[SynthPlatform, str]
) -> None:
    assert execute(JOB, settings, platform, run_date=END) == EXIT_OK
    items = item_parameters(platform)
    truth = synthetic[0].truth_items.set_index("item_id")
    questions = synthetic[0].questions.set_index("id")
    anchors = questions.index[questions["tags"].str.contains("anchor")]
    for item in anchors:
        row = items.loc[item]
        assert row["status"] == "anchor"
        assert (row["a"], row["b"], row["c"]) == tuple(questions.loc[item, ["a", "b", "c"]])
    assert np.corrcoef(items["b"], truth.loc[items.index, "b"])[0, 1] > 0.9


def item_parameters(engine: Engine, table: str = "mirt_item_params") -> pd.DataFrame:
    rows = frame(engine, f"SELECT item_id, params FROM {table}")
    values = pd.DataFrame(rows["params"].tolist())
    values.index = rows["item_id"].astype(int)
    return values.sort_index()


def thetas(engine: Engine, run_id: str) -> pd.Series:
    rows = frame(engine, "SELECT user_id, theta FROM mirt_ability_history WHERE run_id = :r", r=run_id)
    return rows.set_index("user_id")["theta"]


def test_consecutive_days_keep_one_scale(
    platform: Engine, settings: Settings, synthetic: tuple[SynthPlatform, str]
) -> None:
    assert execute(JOB, settings, platform, run_date=END) == EXIT_OK
    first_items = item_parameters(platform)
    assert execute(JOB, settings, platform, run_date=NEXT) == EXIT_OK
    second_items = item_parameters(platform)
    shared = first_items.index.intersection(second_items.index)
    held = second_items.loc[shared, "status"].isin(["anchor", "frozen"])
    assert held.mean() > 0.8
    for column in ("a", "b", "c"):
        assert (second_items.loc[shared[held], column] == first_items.loc[shared[held], column]).all()

    everything = answers(synthetic[0])
    dropped = everything[everything["day"] == END - dt.timedelta(days=29)]["user_id"]
    added = everything[everything["day"] == NEXT]["user_id"]
    before, after = thetas(platform, "mirt-2PL-v1-2026-11-20"), thetas(platform, "mirt-2PL-v1-2026-11-21")
    unchanged = before.index.difference(pd.Index(dropped)).difference(pd.Index(added))
    assert len(unchanged) > 100
    shift = (after.loc[unchanged] - before.loc[unchanged]).abs()
    assert shift.max() < 0.05, shift.describe()


def test_dry_run_writes_nothing(
    platform: Engine, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    before = table_fingerprints(platform)
    assert execute(JOB, settings, platform, run_date=END, dry_run=True) == EXIT_OK
    assert table_fingerprints(platform) == before
    assert "[DRY_RUN] Would calibrate" in capsys.readouterr().out


def test_rerunning_a_date_gives_the_same_rows(platform: Engine, settings: Settings) -> None:
    assert execute(JOB, settings, platform, run_date=END) == EXIT_OK
    before = {k: v for k, v in table_fingerprints(platform).items() if k != "job_runs"}
    assert execute(JOB, settings, platform, run_date=END) == EXIT_OK
    after = {k: v for k, v in table_fingerprints(platform).items() if k != "job_runs"}
    assert after == before


def test_rerunning_an_earlier_date_keeps_the_newer_latest_rows(platform: Engine, settings: Settings) -> None:
    assert execute(JOB, settings, platform, run_date=END) == EXIT_OK
    assert execute(JOB, settings, platform, run_date=NEXT) == EXIT_OK
    latest = frame(platform, "SELECT user_id, run_id FROM mirt_ability ORDER BY user_id")
    assert execute(JOB, settings, platform, run_date=END) == EXIT_OK
    assert frame(platform, "SELECT user_id, run_id FROM mirt_ability ORDER BY user_id").equals(latest)
    counts = frame(platform, "SELECT run_id, count(*) AS n FROM mirt_ability_history GROUP BY run_id")
    assert len(counts) == 2


def test_a_sharded_run_is_refused(
    platform: Engine, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert execute(JOB, settings, platform, run_date=END, shard=Shard(0, 2)) == EXIT_FAILED
    assert "cannot be sharded" in capsys.readouterr().out
    assert frame(platform, "SELECT count(*) AS n FROM mirt_item_params")["n"][0] == 0


def fit_meta(engine: Engine) -> pd.DataFrame:
    return frame(engine, "SELECT run_id, model_spec, metrics FROM mirt_fit_meta ORDER BY run_id")


def test_topic_subject_and_cap_filters_really_filter(
    platform: Engine,
    settings: Settings,
    synthetic: tuple[SynthPlatform, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    window = answers(synthetic[0])
    window = window[window["day"] >= END - dt.timedelta(days=29)]
    topic = sorted(window["topic_id"].unique())[0]
    by_topic = settings.model_copy(update={"mirt_topic_id": topic})
    assert execute(JOB, by_topic, platform, run_date=END) == EXIT_OK
    meta = fit_meta(platform)
    assert meta["run_id"].tolist() == [f"mirt-2PL-v1-2026-11-20-topic:{topic}"]
    assert meta["metrics"][0]["n_obs"] == int((window["topic_id"] == topic).sum())
    topics = frame(platform, "SELECT DISTINCT topic_id FROM student_topic_theta")
    assert topics["topic_id"].tolist() == [topic]

    capped = settings.model_copy(update={"mirt_max_obs": 5000})
    assert execute(JOB, capped, platform, run_date=END) == EXIT_OK
    assert fit_meta(platform).set_index("run_id").loc["mirt-2PL-v1-2026-11-20", "metrics"]["n_obs"] == 5000

    capsys.readouterr()
    elsewhere = settings.model_copy(update={"mirt_subject_id": 999})
    assert execute(JOB, elsewhere, platform, run_date=END) == EXIT_OK
    out = capsys.readouterr().out
    assert "[INFO] Loaded 0 observations from attempt VIEW" in out
    assert "No observations found; exiting." in out


def test_question_meta_is_updated_on_request_and_anchors_are_left_alone(
    platform: Engine, settings: Settings
) -> None:
    before = frame(
        platform, 'SELECT id, meta FROM question WHERE meta @> \'{"tags": ["anchor"]}\' ORDER BY id'
    )
    assert (
        execute(JOB, settings.model_copy(update={"irt_update_question_meta": True}), platform, run_date=END)
        == 0
    )
    after = frame(
        platform, 'SELECT id, meta FROM question WHERE meta @> \'{"tags": ["anchor"]}\' ORDER BY id'
    )
    assert after.equals(before)
    items = item_parameters(platform)
    meta = frame(
        platform, "SELECT id, meta->'irt' AS irt FROM question WHERE NOT meta @> '{\"tags\": [\"anchor\"]}'"
    )
    assert len(meta) == (items["status"] != "anchor").sum()
    for row in meta.itertuples():
        assert row.irt["b"] == items.loc[row.id, "b"]
        assert (row.irt["model"], row.irt["version"]) == ("2PL", "v1")


def test_recalibrate_frees_earlier_items_but_not_anchors(platform: Engine, settings: Settings) -> None:
    assert execute(JOB, settings, platform, run_date=END) == EXIT_OK
    assert execute(JOB, settings, platform, run_date=NEXT, options={"recalibrate": True}) == EXIT_OK
    meta = fit_meta(platform).set_index("run_id").loc["mirt-2PL-v1-2026-11-21"]
    assert meta["model_spec"]["recalibrate"] is True
    assert set(meta["metrics"]["items_by_status"]) <= {"anchor", "estimated", "extreme"}
    assert meta["metrics"]["items_by_status"]["anchor"] == 8
    assert meta["metrics"]["drift"]["n_shared"] > 40


def test_the_alerting_figures_are_exported(platform: Engine, settings: Settings) -> None:
    assert execute(JOB, settings, platform, run_date=END) == EXIT_OK
    metrics = frame(platform, "SELECT metrics FROM job_runs WHERE job = 'mirt-calibrate'")["metrics"][0]
    for name in (
        "converged",
        "mean_item_drift",
        "loglik",
        "iterations",
        "n_obs",
        "read_seconds",
        "write_seconds",
    ):
        assert f"calibration_{name}" in metrics, name
    assert metrics["calibration_converged"] == 1.0


def test_without_anchors_a_refit_is_linked_back_to_the_earlier_scale(
    platform: Engine, settings: Settings, synthetic: tuple[SynthPlatform, str]
) -> None:
    with platform.begin() as connection:
        connection.execute(text("UPDATE question SET meta = '{}'::jsonb"))
    assert execute(JOB, settings, platform, run_date=END) == EXIT_OK
    assert execute(JOB, settings, platform, run_date=NEXT, options={"recalibrate": True}) == EXIT_OK
    meta = fit_meta(platform).set_index("run_id").loc["mirt-2PL-v1-2026-11-21"]
    linking = meta["model_spec"]["linking_constants"]
    assert linking["applied"] is True
    assert linking["method"] == "stocking_lord"
    assert linking["n_anchors_used"] == 60
    before, after = thetas(platform, "mirt-2PL-v1-2026-11-20"), thetas(platform, "mirt-2PL-v1-2026-11-21")
    shared = before.index.intersection(after.index)
    assert (after.loc[shared] - before.loc[shared]).abs().median() < 0.05


def test_a_window_with_nothing_to_estimate_is_not_a_failure(
    engine: Engine, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    with engine.begin() as connection:  # this test starts from the loaded platform: empty it
        connection.execute(text("TRUNCATE exam_results, attempt_fact, question"))
    load(engine, [exam_result("s1", "u1", at("2026-11-19"), [question(1, True), question(2, True)])])
    assert execute(JOB, settings, engine, run_date=END) == EXIT_OK
    assert "[WARN] Nothing to calibrate" in capsys.readouterr().out
    assert frame(engine, "SELECT count(*) AS n FROM mirt_ability_history")["n"][0] == 0


def test_the_fit_statistics_are_skipped_above_their_size_limit(
    platform: Engine, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    def statistics_of(run_settings: Settings) -> object:
        assert execute(JOB, run_settings, platform, run_date=END) == EXIT_OK
        meta = frame(platform, "SELECT metrics FROM mirt_fit_meta WHERE run_id = 'mirt-2PL-v1-2026-11-20'")
        return meta["metrics"][0]["statistics"]

    computed = statistics_of(settings)
    assert isinstance(computed, dict)
    assert "person_fit" in computed
    capsys.readouterr()
    small = settings.model_copy(update={"mirt_statistics_max_obs": 100})
    assert statistics_of(small) is None
    assert "Fit-report statistics skipped: " in capsys.readouterr().out
