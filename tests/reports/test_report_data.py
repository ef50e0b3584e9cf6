"""`report_data_from_dict` builds `ReportData` from plain dicts, lists and frame-like values."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from dreamseed.reports import ReportData, render_html, report_data_from_dict, sample_report_data


def record() -> dict[str, object]:
    return {
        "user_id": 17,
        "week_start": "2025-03-03",
        "generated_at": "2025-03-10T04:00:00+09:00",
        "lang": "en",
        "kpis": {"I_t": np.float64(0.05), "E_t": None, "R_t": float("nan"), "A_t": "0.5", "P": 0.7, "S": 0.1},
        "theta_history": [
            {"date": "2025-03-09", "theta": 0.4, "se": 0.2},
            {"date": dt.date(2025, 2, 23), "theta": 0.2, "se": None},
            {"date": "2025-03-02", "theta": float("nan"), "se": 0.3},
        ],
        "item_difficulties": np.array([-1.0, 0.0, np.nan, 1.0]),
        "topics": [{"topic_id": "alg", "attempts": 10.0, "correct": np.int64(7), "theta": 0.3}],
        "daily_attempts": {"2025-03-03": 4, "2025-03-09": 2, "2025-03-12": 9},
        "goal": {"topic": "alg", "target_level": 1.0, "target_date": "2025-06-01", "P": 0.55},
        "inactive_since": None,
    }


def test_plain_values_become_typed_fields() -> None:
    data = report_data_from_dict(record())
    assert data.user_id == "17"
    assert data.week_end == dt.date(2025, 3, 9)
    assert data.generated_at.utcoffset() == dt.timedelta(hours=9)
    assert (data.kpis.I_t, data.kpis.E_t, data.kpis.R_t, data.kpis.A_t) == (0.05, None, None, 0.5)
    assert [p.date for p in data.theta_history] == [dt.date(2025, 2, 23), dt.date(2025, 3, 9)]
    assert data.item_difficulties == (-1.0, 0.0, 1.0)
    assert data.topics[0].attempts == 10
    assert data.topics[0].correct == 7
    assert data.daily_attempts == (4, 0, 0, 0, 0, 0, 2)
    assert data.goal is not None
    assert data.goal.probability == 0.55
    assert data.goal.target_date == dt.date(2025, 6, 1)
    assert data.inactive_since is None


def test_minimal_record_renders() -> None:
    data = report_data_from_dict(
        {"user_id": "u", "week_start": dt.date(2025, 3, 3), "generated_at": dt.date(2025, 3, 10)}
    )
    assert data.lang == "ko"
    assert data.goal is None
    assert data.daily_attempts == (0,) * 7
    assert "u" in render_html(data)


def test_daily_attempts_list_is_padded_or_cut_to_seven() -> None:
    base = {"user_id": "u", "week_start": "2025-03-03", "generated_at": "2025-03-10"}
    assert report_data_from_dict({**base, "daily_attempts": [1, 2]}).daily_attempts == (1, 2, 0, 0, 0, 0, 0)
    assert report_data_from_dict({**base, "daily_attempts": list(range(9))}).daily_attempts == tuple(range(7))


def test_invalid_language_and_day_count_are_rejected() -> None:
    with pytest.raises(ValueError, match="lang"):
        report_data_from_dict(
            {"user_id": "u", "week_start": "2025-03-03", "generated_at": "2025-03-10", "lang": "fr"}
        )
    with pytest.raises(ValueError, match="daily_attempts"):
        ReportData("u", dt.date(2025, 3, 3), dt.datetime(2025, 3, 10), daily_attempts=(1, 2))


def test_sample_data_is_deterministic_and_overridable() -> None:
    assert sample_report_data(seed=5) == sample_report_data(seed=5)
    assert sample_report_data(seed=5) != sample_report_data(seed=6)
    assert sample_report_data(seed=5, theta=None).theta is None
