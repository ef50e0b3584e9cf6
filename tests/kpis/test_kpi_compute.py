"""compute_kpis: the output contract, nulls, as_of cut-off, and batch = one user at a time."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from dreamseed.kpis import EXTRA_COLUMNS, KPI_COLUMNS, compute_kpis, prepare_attempts


def test_one_row_per_user_in_order_with_the_documented_columns(make_attempts, as_of):
    out = compute_kpis(users=["b", "a", "b"], attempts=make_attempts([{"user_id": "zz"}]), as_of=as_of)
    assert list(out.index) == ["b", "a"]
    assert out.index.name == "user_id"
    assert list(out.columns) == list(KPI_COLUMNS + EXTRA_COLUMNS)


def test_every_kpi_is_null_not_zero_without_data(make_attempts, as_of):
    row = compute_kpis(users=["u1"], attempts=make_attempts([]), as_of=as_of).loc["u1"]
    for column in (*KPI_COLUMNS, "P_static", "P_trend", "S_v1", "days_since_last", "mean_gap_days"):
        assert pd.isna(row[column]), column
    for column in ("I_t_mode", "P_method", "S_band"):
        assert row[column] is None, column
    assert (row["n_recent"], row["sessions_56d"]) == (0, 0)


def test_attempts_and_thetas_after_as_of_are_ignored(make_attempts, make_theta, random_inputs, as_of):
    rng = np.random.default_rng(3)
    attempts, history, abilities, goals = random_inputs(rng, ["u1", "u2"], as_of)
    base = compute_kpis(
        users=["u1", "u2"],
        attempts=attempts,
        theta_history=history,
        abilities=abilities,
        goals=goals,
        as_of=as_of,
    )
    later = make_attempts(
        [{"user_id": u, "days_ago": d, "correct": False} for u in ("u1", "u2") for d in (-1, -5)]
    )
    later_history = make_theta([("u1", -1, 5.0, 0.1), ("u2", -2, -5.0, 0.1)])
    with_future = compute_kpis(
        users=["u1", "u2"],
        attempts=pd.concat([attempts, later], ignore_index=True),
        theta_history=pd.concat([history, later_history], ignore_index=True),
        abilities=abilities,
        goals=goals,
        as_of=as_of,
    )
    pd.testing.assert_frame_equal(base, with_future)


def test_days_are_utc_days(make_attempts, as_of):
    evening_in_new_york = pd.Timestamp(f"{as_of}T20:30:00", tz="America/New_York")  # 00:30 UTC next day
    frame = make_attempts([{"completed_at": evening_in_new_york}, {"days_ago": 2}])
    frame["completed_at"] = frame["completed_at"].dt.tz_convert("America/New_York")
    assert compute_kpis(users=["u1"], attempts=frame, as_of=as_of).loc["u1", "days_since_last"] == 2
    assert (
        compute_kpis(users=["u1"], attempts=frame, as_of=as_of + timedelta(days=1)).loc[
            "u1", "days_since_last"
        ]
        == 0
    )


def test_many_users_at_once_equal_each_user_alone(random_inputs, as_of):
    rng = np.random.default_rng(11)
    users = [f"user-{i}" for i in range(25)] + ["no-data"]
    attempts, history, abilities, goals = random_inputs(rng, users[:-1], as_of)
    together = compute_kpis(
        users=users, attempts=attempts, theta_history=history, abilities=abilities, goals=goals, as_of=as_of
    )
    for user in users:
        alone = compute_kpis(
            users=[user],
            attempts=attempts[attempts["user_id"] == user],
            theta_history=history[history["user_id"] == user],
            abilities=abilities[abilities["user_id"] == user],
            goals=goals[goals["user_id"] == user],
            as_of=as_of,
        )
        pd.testing.assert_frame_equal(together.loc[[user]], alone, check_exact=False, rtol=1e-12)
    assert together["I_t_mode"].notna().sum() > 10
    assert together["R_t"].notna().sum() > 5


def test_categorical_ids_give_the_same_result(random_inputs, as_of):
    rng = np.random.default_rng(5)
    users = [f"user-{i}" for i in range(10)]
    attempts, history, _, _ = random_inputs(rng, users, as_of)
    plain = compute_kpis(users=users, attempts=attempts, theta_history=history, as_of=as_of)
    categorical = attempts.astype({"user_id": "category", "session_id": "category"})
    pd.testing.assert_frame_equal(
        plain, compute_kpis(users=users, attempts=categorical, theta_history=history, as_of=as_of)
    )


def test_missing_columns_are_named(make_attempts, as_of):
    with pytest.raises(ValueError, match="session_id"):
        prepare_attempts(make_attempts([]).drop(columns="session_id"), ["u1"], as_of)
