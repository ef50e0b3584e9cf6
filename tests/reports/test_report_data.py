"""`ReportData`: its defaults, its checks (language, seven days) and the deterministic sample data."""

from __future__ import annotations

import datetime as dt

import pytest

from dreamseed.reports import ReportData, render_html, sample_report_data


def test_minimal_report_data_renders() -> None:
    data = ReportData("u", dt.date(2025, 3, 3), dt.datetime(2025, 3, 10))
    assert data.lang == "ko"
    assert data.goal is None
    assert data.daily_attempts == (0,) * 7
    assert "u" in render_html(data)


def test_invalid_language_and_day_count_are_rejected() -> None:
    with pytest.raises(ValueError, match="lang"):
        ReportData("u", dt.date(2025, 3, 3), dt.datetime(2025, 3, 10), lang="fr")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="daily_attempts"):
        ReportData("u", dt.date(2025, 3, 3), dt.datetime(2025, 3, 10), daily_attempts=(1, 2))


def test_sample_data_is_deterministic_and_overridable() -> None:
    assert sample_report_data(seed=5) == sample_report_data(seed=5)
    assert sample_report_data(seed=5) != sample_report_data(seed=6)
    assert sample_report_data(seed=5, theta=None).theta is None
