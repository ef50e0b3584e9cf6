"""The report's pinned rules: level bands, growth messages, churn bands, item balance, recommendations."""

from __future__ import annotations

import dataclasses
import datetime as dt
import string

import numpy as np
import pytest

from dreamseed.reports import Goal, Kpis, ThetaPoint, TopicRow, sample_report_data
from dreamseed.reports.i18n import EN, KO
from dreamseed.reports.recommend import RuleInputs, recommendations_for
from dreamseed.reports.summaries import (
    churn_band_of,
    growth_category_of,
    growth_per_week,
    item_balance_of,
    items_around,
    level_band_of,
    percentile_of,
    recent_history,
)


@pytest.mark.parametrize(
    ("theta", "band"),
    [
        (2.5, 0),
        (2.0, 0),
        (1.99, 1),
        (1.5, 1),
        (1.0, 2),
        (0.5, 3),
        (0.49, 4),
        (-0.5, 4),
        (-0.51, 5),
        (-1.0, 5),
        (-1.5, 6),
        (-1.51, 7),
        (-4.0, 7),
    ],
)
def test_level_bands_at_the_original_cuts(theta: float, band: int) -> None:
    assert level_band_of(theta) == band


def test_percentile_is_standard_normal_cdf() -> None:
    assert percentile_of(0.0) == pytest.approx(50.0)
    assert percentile_of(1.0) == pytest.approx(84.134, abs=1e-3)
    assert percentile_of(-1.96) == pytest.approx(2.5, abs=1e-2)


@pytest.mark.parametrize(
    ("rate", "category"),
    [
        (0.2, "strong"),
        (0.1, "steady"),
        (0.06, "steady"),
        (0.05, "slow"),
        (0.001, "slow"),
        (0.0, "plateau"),
        (-0.05, "declining"),
        (-0.3, "declining"),
        (None, "unknown"),
    ],
)
def test_growth_messages(rate: float | None, category: str) -> None:
    assert growth_category_of(rate) == category


def test_growth_per_week_is_change_over_weeks_elapsed() -> None:
    points = [ThetaPoint(dt.date(2025, 1, 5), 0.0, 0.3), ThetaPoint(dt.date(2025, 1, 19), 0.3, 0.2)]
    assert growth_per_week(points) == pytest.approx(0.15)
    assert growth_per_week(points[:1]) is None
    assert growth_per_week([points[0], dataclasses.replace(points[0], theta=1.0)]) is None


def test_history_keeps_the_eight_weeks_up_to_the_week_end() -> None:
    end = dt.date(2025, 3, 9)
    points = [ThetaPoint(end - dt.timedelta(days=d), 0.1, 0.2) for d in (-1, 0, 55, 56, 80)]
    assert [p.date for p in recent_history(points, end)] == [end - dt.timedelta(days=55), end]


@pytest.mark.parametrize(
    ("risk", "band"),
    [(0.0, "low"), (0.2999, "low"), (0.3, "medium"), (0.6999, "medium"), (0.7, "high"), (None, None)],
)
def test_churn_bands(risk: float | None, band: str | None) -> None:
    assert churn_band_of(risk) == band


def test_item_position_and_the_one_and_a_half_rule() -> None:
    bank = np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 2.0])
    assert items_around(bank, 0.5) == (3, 2)
    assert items_around(bank, None) == (0, 0)
    assert item_balance_of(3, 2) == "easy"
    assert item_balance_of(2, 3) == "hard"
    assert item_balance_of(5, 4) == "balanced"
    assert item_balance_of(0, 0) is None


def rules_for(**changes: object) -> list[str]:
    data = dataclasses.replace(sample_report_data(seed=30, lang="en"), **changes)  # type: ignore[arg-type]
    return [r.rule for r in recommendations_for(RuleInputs(data, 0.0, "balanced", 0.1), EN)]


GOOD = Kpis(I_t=0.0, E_t=0.9, R_t=0.9, A_t=0.9, P=0.9, S=0.1)


def test_each_rule_fires_on_its_documented_condition() -> None:
    quiet = {"kpis": GOOD, "topics": (), "goal": None}
    assert rules_for(**quiet) == ["near_level", "keep_routine"]
    assert rules_for(**{**quiet, "kpis": dataclasses.replace(GOOD, E_t=0.49)})[0] == "timed_practice"
    assert rules_for(**{**quiet, "kpis": dataclasses.replace(GOOD, R_t=0.2)})[0] == "review_wrong"
    assert rules_for(**{**quiet, "kpis": dataclasses.replace(GOOD, A_t=0.69)})[0] == "engagement"
    assert rules_for(**{**quiet, "kpis": dataclasses.replace(GOOD, P=0.59)})[0] == "goal"
    assert rules_for(**{**quiet, "kpis": dataclasses.replace(GOOD, S=0.7)})[0] == "come_back"
    assert rules_for(**{**quiet, "inactive_since": dt.date(2025, 2, 1)})[0] == "come_back"
    assert rules_for(**{**quiet, "kpis": dataclasses.replace(GOOD, I_t=0.2)})[0] == "great_progress"
    weak = (TopicRow("geo", 10, 3), TopicRow("alg", 10, 8), TopicRow("tiny", 2, 0))
    assert rules_for(**{**quiet, "topics": weak})[0] == "weak_topic"


def test_weak_topic_names_the_weakest_topic_with_enough_attempts() -> None:
    data = dataclasses.replace(
        sample_report_data(seed=31, lang="en"),
        topics=(TopicRow("geo", 10, 3, name="Geometry"), TopicRow("alg", 10, 5), TopicRow("tiny", 2, 0)),
    )
    texts = [r.text for r in recommendations_for(RuleInputs(data, None, None, None), EN)]
    assert "Practise Geometry: it had your lowest accuracy this week (30%)." in texts


def test_goal_rule_uses_the_goal_topic() -> None:
    data = dataclasses.replace(
        sample_report_data(seed=32, lang="en"), kpis=GOOD, topics=(), goal=Goal("algebra", 1.0, None, 0.4)
    )
    texts = [r.text for r in recommendations_for(RuleInputs(data, None, None, None), EN)]
    assert any("focus on algebra" in text and "40%" in text for text in texts)


def test_never_great_progress_at_high_risk_and_at_most_four() -> None:
    for risk in (0.3, 0.5, 0.7, 0.99):
        kpis = Kpis(I_t=0.9, E_t=0.1, R_t=0.1, A_t=0.1, P=0.1, S=risk)
        rules = [
            r.rule
            for r in recommendations_for(
                RuleInputs(dataclasses.replace(sample_report_data(seed=33), kpis=kpis), 0.5, "easy", 1.0), KO
            )
        ]
        assert "great_progress" not in rules
        assert 2 <= len(rules) <= 4


def test_both_languages_have_the_same_keys_and_fields() -> None:
    assert EN.keys() == KO.keys()
    formatter = string.Formatter()
    for key in EN:
        fields_en = {name for _, name, _, _ in formatter.parse(EN[key]) if name}
        fields_ko = {name for _, name, _, _ in formatter.parse(KO[key]) if name}
        assert fields_en == fields_ko, key
