"""I_t and I_t_z: θ mode, accuracy fallback, windows ending at as_of, nulls."""

from __future__ import annotations

import math

import pytest

from dreamseed.kpis import KpiParameters, compute_kpis


def _recent(n: int, correct: int = 0, days_ago: int = 1) -> list[dict[str, object]]:
    return [{"days_ago": days_ago, "correct": i < correct, "item_id": i} for i in range(n)]


def _previous(n: int, correct: int = 0, days_ago: int = 20) -> list[dict[str, object]]:
    return [{"days_ago": days_ago, "correct": i < correct, "item_id": 100 + i} for i in range(n)]


def test_rising_theta_gives_the_pinned_positive_improvement(make_attempts, make_theta, as_of):
    history = make_theta([("u1", 20, -0.1, 0.1), ("u1", 2, 0.2, 0.1)])
    row = compute_kpis(
        users=["u1"], attempts=make_attempts(_recent(10)), theta_history=history, as_of=as_of
    ).loc["u1"]
    # (0.2 − (−0.1)) · min(1, 10/30) · (1 − min(0.5, 1.96·0.1))
    assert row["I_t"] == pytest.approx(0.3 * (10 / 30) * (1 - 0.196))
    assert row["I_t"] > 0
    assert row["I_t_mode"] == "theta"
    assert row["I_t_z"] == pytest.approx(0.3 / math.sqrt(0.02))


def test_falling_theta_gives_no_positive_improvement(make_attempts, make_theta, as_of):
    history = make_theta([("u1", 20, 0.2, 0.1), ("u1", 2, -0.1, 0.1)])
    row = compute_kpis(
        users=["u1"], attempts=make_attempts(_recent(10)), theta_history=history, as_of=as_of
    ).loc["u1"]
    assert row["I_t"] <= 0
    assert row["I_t_z"] < 0


def test_no_exposure_gives_null(make_attempts, make_theta, as_of):
    history = make_theta([("u1", 20, -0.1, 0.1), ("u1", 2, 0.2, 0.1)])
    row = compute_kpis(users=["u1"], attempts=make_attempts([]), theta_history=history, as_of=as_of).loc["u1"]
    assert math.isnan(row["I_t"])
    assert math.isnan(row["I_t_z"])
    assert row["I_t_mode"] is None
    assert row["n_recent"] == 0


def test_accuracy_rising_from_a_quarter_to_a_half_is_positive_and_pinned(make_attempts, as_of):
    frame = make_attempts(_previous(8, correct=2) + _recent(8, correct=4))
    row = compute_kpis(users=["u1"], attempts=frame, as_of=as_of).loc["u1"]
    penalty = 1 - min(0.5, 1.96 * math.sqrt(0.5 * 0.5 / 8))
    assert row["I_t"] == pytest.approx((0.5 - 0.25) * (8 / 30) * penalty)
    assert 0 < row["I_t"] <= 1
    assert row["I_t_mode"] == "accuracy"
    assert math.isnan(row["I_t_z"])


def test_accuracy_decline_is_not_positive(make_attempts, as_of):
    frame = make_attempts(_previous(8, correct=6) + _recent(8, correct=2))
    assert compute_kpis(users=["u1"], attempts=frame, as_of=as_of).loc["u1", "I_t"] < 0


def test_accuracy_mode_is_null_when_either_window_is_empty(make_attempts, as_of):
    only_recent = compute_kpis(users=["u1"], attempts=make_attempts(_recent(8, 4)), as_of=as_of)
    only_previous = compute_kpis(users=["u1"], attempts=make_attempts(_previous(8, 4)), as_of=as_of)
    assert math.isnan(only_recent.loc["u1", "I_t"])
    assert math.isnan(only_previous.loc["u1", "I_t"])


def test_theta_mode_needs_five_recent_attempts_and_the_setting(make_attempts, make_theta, as_of):
    history = make_theta([("u1", 20, -0.1, 0.1), ("u1", 2, 0.2, 0.1)])
    few = make_attempts(_previous(8, 2) + _recent(4, 2))
    assert compute_kpis(users=["u1"], attempts=few, theta_history=history, as_of=as_of).loc[
        "u1", "I_t_mode"
    ] == ("accuracy")
    enough = make_attempts(_previous(8, 2) + _recent(8, 4))
    off = KpiParameters(use_theta=False)
    row = compute_kpis(users=["u1"], attempts=enough, theta_history=history, as_of=as_of, parameters=off).loc[
        "u1"
    ]
    assert row["I_t_mode"] == "accuracy"


def test_theta_mode_needs_a_theta_in_both_windows(make_attempts, make_theta, as_of):
    history = make_theta([("u1", 2, 0.2, 0.1), ("u1", 5, -0.1, 0.1)])
    frame = make_attempts(_previous(8, 2) + _recent(8, 4))
    assert compute_kpis(users=["u1"], attempts=frame, theta_history=history, as_of=as_of).loc[
        "u1", "I_t_mode"
    ] == ("accuracy")


def test_unknown_se_means_no_penalty_and_no_z(make_attempts, make_theta, as_of):
    history = make_theta([("u1", 20, -0.1, float("nan")), ("u1", 2, 0.2, float("nan"))])
    row = compute_kpis(
        users=["u1"], attempts=make_attempts(_recent(10)), theta_history=history, as_of=as_of
    ).loc["u1"]
    assert row["I_t"] == pytest.approx(0.3 * 10 / 30)
    assert math.isnan(row["I_t_z"])


def test_theta_windows_split_at_fourteen_days_and_stop_at_as_of(make_attempts, make_theta, as_of):
    history = make_theta(
        [
            ("u1", 27, 5.0, 0.1),  # older previous-window point, superseded
            ("u1", 14, -0.1, 0.1),  # latest of the previous window [as_of−27, as_of−14]
            ("u1", 13, 0.0, 0.1),  # recent window [as_of−13, as_of], superseded
            ("u1", 0, 0.2, 0.1),  # latest of the recent window
            ("u1", -1, 9.0, 0.1),  # after as_of: ignored
        ]
    )
    row = compute_kpis(
        users=["u1"], attempts=make_attempts(_recent(30)), theta_history=history, as_of=as_of
    ).loc["u1"]
    assert row["I_t"] == pytest.approx(0.3 * 1.0 * (1 - 0.196))


def test_large_changes_are_clamped(make_attempts, make_theta, as_of):
    history = make_theta([("u1", 20, -5.0, 0.0), ("u1", 2, 5.0, 0.0)])
    row = compute_kpis(
        users=["u1"], attempts=make_attempts(_recent(40)), theta_history=history, as_of=as_of
    ).loc["u1"]
    assert row["I_t"] == 1.0
