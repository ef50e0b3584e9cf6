"""A goal whose target date has passed shows "reached" or "missed", not a probability."""

from __future__ import annotations

import datetime as dt

import pytest

from dreamseed.reports.data import Goal, Kpis, Lang, ReportData, ThetaPoint
from dreamseed.reports.html import html_from_view
from dreamseed.reports.i18n import labels_for
from dreamseed.reports.view import goal_outcome, report_view

WEEK = dt.date(2026, 11, 23)  # Monday; the report is as of Sunday 2026-11-29
GENERATED = dt.datetime(2026, 11, 30, 4, tzinfo=dt.UTC)
HISTORY = (ThetaPoint(dt.date(2026, 11, 1), 0.2, 0.3), ThetaPoint(dt.date(2026, 11, 20), 0.9, 0.3))


def report(
    target_date: dt.date | None, target_level: float | None = 0.5, lang: Lang = "en", **extra: object
) -> ReportData:
    goal = Goal(topic="algebra", target_level=target_level, target_date=target_date, probability=0.37)
    return ReportData(
        user_id="u1",
        week_start=WEEK,
        generated_at=GENERATED,
        lang=lang,
        goal=goal,
        kpis=Kpis(P=0.37),
        **extra,  # type: ignore[arg-type]
    )


def test_a_goal_ahead_shows_its_probability() -> None:
    data = report(dt.date(2026, 12, 20), theta_history=HISTORY)
    assert goal_outcome(data) is None
    view = report_view(data)
    assert view.goal is not None
    assert view.goal.probability == "37%"


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize(
    ("target_date", "target_level", "outcome"),
    [
        (dt.date(2026, 11, 25), 0.5, "reached"),  # θ 0.9 on 11-20, the latest before the date
        (dt.date(2026, 11, 10), 0.5, "missed"),  # θ 0.2 on 11-01 was the level at that date
        (dt.date(2026, 11, 29), 1.5, "missed"),  # the report's last day counts as passed
    ],
)
def test_a_past_goal_shows_reached_or_missed(
    lang: Lang, target_date: dt.date, target_level: float, outcome: str
) -> None:
    data = report(target_date, target_level, lang, theta_history=HISTORY)
    assert goal_outcome(data) == outcome
    view = report_view(data)
    assert view.goal is not None
    assert view.goal.probability == labels_for(lang)[f"goal_{outcome}"]
    assert "37%" not in view.goal.probability
    assert labels_for(lang)[f"goal_{outcome}"] in html_from_view(view)


def test_a_past_goal_without_history_uses_the_current_theta() -> None:
    assert goal_outcome(report(dt.date(2026, 11, 2), 0.5, theta=0.8)) == "reached"
    assert goal_outcome(report(dt.date(2026, 11, 2), 0.5, theta=0.1)) == "missed"


def test_a_past_goal_that_cannot_be_decided_shows_no_probability() -> None:
    for data in (report(dt.date(2026, 11, 2), None, theta=0.8), report(dt.date(2026, 11, 2), 0.5)):
        assert goal_outcome(data) is None
        view = report_view(data)
        assert view.goal is not None
        assert view.goal.probability == labels_for("en")["na"]


def test_both_languages_have_the_outcome_labels() -> None:
    for lang in ("en", "ko"):
        labels = labels_for(lang)
        assert labels["goal_reached"] != labels["goal_missed"]


def test_no_low_chance_advice_for_a_goal_whose_date_has_passed() -> None:
    """P = 0.37 would advise "goal at risk"; once the deadline passed there is no chance left to advise on."""
    labels = labels_for("en")
    advice_ahead = report_view(report(dt.date(2026, 12, 20), theta_history=HISTORY)).recommendations
    advice_past = report_view(report(dt.date(2026, 11, 25), theta_history=HISTORY)).recommendations
    goal_advice = labels["rec_goal_topic"].split("{")[0]
    assert any(goal_advice in line for line in advice_ahead)
    assert not any(goal_advice in line for line in advice_past)
