"""A_t over the 28 days ending at as_of."""

from __future__ import annotations

import math

import pytest

from dreamseed.kpis import compute_kpis


def _engagement(frame, as_of) -> float:
    return float(compute_kpis(users=["u1"], attempts=frame, as_of=as_of).loc["u1", "A_t"])


def test_engagement_matches_the_formula_by_hand(make_attempts, as_of):
    frame = make_attempts(
        [
            {"days_ago": 4, "session_id": "a", "response_time_ms": 300_000, "hint_used": False},
            {"days_ago": 2, "session_id": "b", "response_time_ms": 300_000, "hint_used": True},
            {"days_ago": 0, "session_id": "c", "response_time_ms": 300_000, "hint_used": False},
        ]
    )
    sessions = 0.35 * 3 / 28
    gap = 0.25 * min(1, 1 / 2.0)  # mean gap 2 days
    hints = 0.20 * (1 - (1 / 3) / 3)
    dwell = 0.20 * (300 / 900)
    assert _engagement(frame, as_of) == pytest.approx(sessions + gap + hints + dwell)


def test_unknown_parts_count_as_one_half(make_attempts, as_of):
    frame = make_attempts([{"days_ago": 1, "response_time_ms": None, "hint_used": None}])
    assert _engagement(frame, as_of) == pytest.approx(0.35 / 28 + 0.25 * 0.5 + 0.20 * 0.5 + 0.20 * 0.5)


def test_a_session_s_dwell_is_the_sum_of_its_response_times(make_attempts, as_of):
    one_long = make_attempts(
        [
            {"days_ago": 1, "hour": 10, "response_time_ms": 600_000},
            {"days_ago": 1, "hour": 11, "response_time_ms": 600_000},
        ]
    )
    # one session of 1200 s (capped at 900 → 1), gap 1/24 day → gap_norm 1
    assert _engagement(one_long, as_of) == pytest.approx(0.35 / 28 + 0.25 + 0.20 + 0.20)


def test_engagement_is_null_without_attempts_in_28_days(make_attempts, as_of):
    assert math.isnan(_engagement(make_attempts([{"days_ago": 28}]), as_of))
    assert not math.isnan(_engagement(make_attempts([{"days_ago": 27}]), as_of))
