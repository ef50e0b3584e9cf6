"""Rule-based recommendations: 2–4 concrete suggestions from transparent rules.

Rules, checked in this order (the first four that fire are shown; fillers complete to two):

1. ``come_back`` — churn risk S ≥ 0.7 (high band) or the student is flagged inactive.
2. ``weak_topic`` — the topic with the lowest accuracy among topics with ≥ 3 attempts, when that
   accuracy is < 0.6.
3. ``timed_practice`` — efficiency E_t < 0.5 (original threshold).
4. ``review_wrong`` — recovery R_t < 0.5.
5. ``engagement`` — engagement A_t < 0.7 (original threshold).
6. ``goal`` — goal probability P < 0.6 (original threshold; the goal's own P first, else the KPI).
7. ``great_progress`` — growth ≥ 0.05 θ/week or I_t > 0.1, and churn risk known and low
   (S < 0.3), and not inactive. (The original said "great progress" for S > 0.1, i.e. for
   students at risk of leaving; here it can never appear with S ≥ 0.3.)
8. ``harder_items`` — at least 1.5× more bank items are easier than θ than harder.

Fillers when fewer than two fired: ``near_level`` (when θ is known), then ``keep_routine``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dreamseed.reports.data import ReportData, TopicRow
from dreamseed.reports.summaries import CHURN_HIGH, CHURN_MEDIUM, accuracy_of, finite

MAX_RECOMMENDATIONS = 4
MIN_RECOMMENDATIONS = 2
WEAK_TOPIC_MIN_ATTEMPTS = 3
WEAK_TOPIC_ACCURACY = 0.6
LOW_EFFICIENCY = 0.5
LOW_RECOVERY = 0.5
LOW_ENGAGEMENT = 0.7
LOW_GOAL_PROBABILITY = 0.6
GREAT_GROWTH_PER_WEEK = 0.05
GREAT_IMPROVEMENT = 0.1


@dataclass(frozen=True)
class Recommendation:
    """One recommendation: the rule that produced it and its text in the report language."""

    rule: str
    text: str


@dataclass(frozen=True)
class RuleInputs:
    """The facts the rules look at (already cleaned: non-finite → None)."""

    data: ReportData
    growth_per_week: float | None
    item_balance: str | None
    theta: float | None


def fmt3(value: float) -> str:
    """A value in the report's fixed 3-decimal format."""
    return f"{value:.3f}"


def weakest_topic(topics: tuple[TopicRow, ...]) -> tuple[TopicRow, float] | None:
    """The topic with the lowest accuracy among those with enough attempts, and that accuracy."""
    scored = [(t, accuracy_of(t)) for t in topics if t.attempts >= WEAK_TOPIC_MIN_ATTEMPTS]
    candidates = [(t, acc) for t, acc in scored if acc is not None]
    if not candidates:
        return None
    return min(candidates, key=lambda pair: pair[1])


def rule_come_back(facts: RuleInputs, labels: Mapping[str, str]) -> str | None:
    risk = finite(facts.data.kpis.S)
    if facts.data.inactive_since is not None or (risk is not None and risk >= CHURN_HIGH):
        return labels["rec_come_back"]
    return None


def rule_weak_topic(facts: RuleInputs, labels: Mapping[str, str]) -> str | None:
    weakest = weakest_topic(facts.data.topics)
    if weakest is None or weakest[1] >= WEAK_TOPIC_ACCURACY:
        return None
    topic, accuracy = weakest
    return labels["rec_weak_topic"].format(topic=topic.name or topic.topic_id, accuracy=f"{accuracy:.0%}")


def threshold_rule(kpi: str, limit: float, key: str) -> Callable[[RuleInputs, Mapping[str, str]], str | None]:
    """A rule firing when KPI ``kpi`` is known and below ``limit``, with text ``key``."""

    def rule(facts: RuleInputs, labels: Mapping[str, str]) -> str | None:
        value = finite(getattr(facts.data.kpis, kpi))
        return labels[key].format(value=fmt3(value)) if value is not None and value < limit else None

    return rule


def rule_goal(facts: RuleInputs, labels: Mapping[str, str]) -> str | None:
    goal = facts.data.goal
    if goal is not None and goal.target_date is not None and goal.target_date <= facts.data.last_day:
        return None  # the deadline has passed: the report says reached or missed, not a chance
    probability = finite(goal.probability) if goal is not None else None
    if probability is None:
        probability = finite(facts.data.kpis.P)
    if probability is None or probability >= LOW_GOAL_PROBABILITY:
        return None
    if goal is not None and goal.topic:
        return labels["rec_goal_topic"].format(value=f"{probability:.0%}", topic=goal.topic)
    return labels["rec_goal"].format(value=f"{probability:.0%}")


def rule_great_progress(facts: RuleInputs, labels: Mapping[str, str]) -> str | None:
    risk = finite(facts.data.kpis.S)
    if risk is None or risk >= CHURN_MEDIUM or facts.data.inactive_since is not None:
        return None
    improvement = finite(facts.data.kpis.I_t)
    growing = facts.growth_per_week is not None and facts.growth_per_week >= GREAT_GROWTH_PER_WEEK
    if growing or (improvement is not None and improvement > GREAT_IMPROVEMENT):
        return labels["rec_great_progress"]
    return None


def rule_harder_items(facts: RuleInputs, labels: Mapping[str, str]) -> str | None:
    return labels["rec_harder_items"] if facts.item_balance == "easy" else None


RULES: tuple[tuple[str, Callable[[RuleInputs, Mapping[str, str]], str | None]], ...] = (
    ("come_back", rule_come_back),
    ("weak_topic", rule_weak_topic),
    ("timed_practice", threshold_rule("E_t", LOW_EFFICIENCY, "rec_timed_practice")),
    ("review_wrong", threshold_rule("R_t", LOW_RECOVERY, "rec_review_wrong")),
    ("engagement", threshold_rule("A_t", LOW_ENGAGEMENT, "rec_engagement")),
    ("goal", rule_goal),
    ("great_progress", rule_great_progress),
    ("harder_items", rule_harder_items),
)


def recommendations_for(facts: RuleInputs, labels: Mapping[str, str]) -> tuple[Recommendation, ...]:
    """2–4 recommendations: the rules above in order, then fillers up to two."""
    chosen: list[Recommendation] = []
    for name, rule in RULES:
        text = rule(facts, labels)
        if text is not None:
            chosen.append(Recommendation(name, text))
        if len(chosen) == MAX_RECOMMENDATIONS:
            return tuple(chosen)
    fillers = [("near_level", labels["rec_near_level"])] if facts.theta is not None else []
    fillers.append(("keep_routine", labels["rec_keep_routine"]))
    for name, text in fillers:
        if len(chosen) < MIN_RECOMMENDATIONS:
            chosen.append(Recommendation(name, text))
    return tuple(chosen)
