"""E_t (time efficiency) and R_t (recovery) over two 28-day windows ending at as_of."""

from __future__ import annotations

import math

import pytest

from dreamseed.kpis import compute_kpis


def _kpi(frame, as_of, column: str) -> float:
    return float(compute_kpis(users=["u1"], attempts=frame, as_of=as_of).loc["u1", column])


def test_halving_the_correct_answer_time_gives_a_value_in_zero_one(make_attempts, as_of):
    frame = make_attempts(
        [{"days_ago": 40, "response_time_ms": 2000}, {"days_ago": 3, "response_time_ms": 1000}]
    )
    efficiency = _kpi(frame, as_of, "E_t")
    assert 0 < efficiency <= 1
    assert efficiency == pytest.approx(0.5)


def test_a_zero_previous_median_gives_null(make_attempts, as_of):
    frame = make_attempts(
        [{"days_ago": 40, "response_time_ms": 0}, {"days_ago": 3, "response_time_ms": 1000}]
    )
    assert math.isnan(_kpi(frame, as_of, "E_t"))


def test_getting_slower_gives_zero(make_attempts, as_of):
    frame = make_attempts(
        [{"days_ago": 40, "response_time_ms": 1000}, {"days_ago": 3, "response_time_ms": 3000}]
    )
    assert _kpi(frame, as_of, "E_t") == 0.0


def test_only_correct_answers_count_and_medians_average_the_middle_two(make_attempts, as_of):
    frame = make_attempts(
        [
            {"days_ago": 30, "response_time_ms": 1000},
            {"days_ago": 31, "response_time_ms": 3000},
            {"days_ago": 32, "response_time_ms": 10, "correct": False},
            {"days_ago": 0, "response_time_ms": 1000},
            {"days_ago": 1, "response_time_ms": 99_999, "correct": False},
        ]
    )
    assert _kpi(frame, as_of, "E_t") == pytest.approx((2000 - 1000) / 2000)


def test_efficiency_is_null_without_either_window(make_attempts, as_of):
    too_old = make_attempts(
        [{"days_ago": 56, "response_time_ms": 2000}, {"days_ago": 3, "response_time_ms": 1000}]
    )
    no_recent = make_attempts([{"days_ago": 40, "response_time_ms": 2000}])
    assert math.isnan(_kpi(too_old, as_of, "E_t"))
    assert math.isnan(_kpi(no_recent, as_of, "E_t"))


def test_recovery_counts_each_recent_attempt_on_a_previously_wrong_key(make_attempts, as_of):
    frame = make_attempts(
        [
            {"days_ago": 35, "item_id": 7, "correct": False},
            {"days_ago": 2, "item_id": 7, "correct": True},
            {"days_ago": 1, "item_id": 7, "correct": True},
            {"days_ago": 0, "item_id": 7, "correct": False},
            {"days_ago": 0, "item_id": 8, "correct": False},  # not a wrong key before
            {"days_ago": 0, "item_id": 7, "topic_id": "geometry", "correct": True},  # other topic
        ]
    )
    assert _kpi(frame, as_of, "R_t") == pytest.approx(2 / 3)


def test_recovery_is_null_without_wrong_keys_or_without_retries(make_attempts, as_of):
    no_wrong = make_attempts([{"days_ago": 35, "correct": True}, {"days_ago": 1, "correct": True}])
    no_retry = make_attempts(
        [{"days_ago": 35, "item_id": 1, "correct": False}, {"days_ago": 1, "item_id": 2}]
    )
    assert math.isnan(_kpi(no_wrong, as_of, "R_t"))
    assert math.isnan(_kpi(no_retry, as_of, "R_t"))


def test_null_topics_match_each_other_and_wrong_keys_are_per_user(make_attempts, as_of):
    frame = make_attempts(
        [
            {"days_ago": 35, "topic_id": None, "correct": False},
            {"days_ago": 1, "topic_id": None, "correct": True},
            {"user_id": "u2", "days_ago": 35, "item_id": 5, "correct": False},
            {"user_id": "u1", "days_ago": 1, "item_id": 5, "correct": True},
        ]
    )
    out = compute_kpis(users=["u1", "u2"], attempts=frame, as_of=as_of)
    assert out.loc["u1", "R_t"] == 1.0
    assert math.isnan(out.loc["u2", "R_t"])
