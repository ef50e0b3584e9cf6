"""The report as display-ready text: one `ReportView` feeds both the HTML and the PDF template.

Everything is formatted and translated here, so the templates only lay out strings.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dreamseed.reports import charts, formatting, summaries
from dreamseed.reports.data import DAYS_PER_WEEK, KPI_NAMES, Lang, ReportData, ThetaPoint
from dreamseed.reports.i18n import labels_for
from dreamseed.reports.recommend import RuleInputs, recommendations_for


@dataclass(frozen=True)
class Chart:
    """An inline SVG chart with its accessible title and description."""

    svg: str
    title: str
    desc: str


@dataclass(frozen=True)
class KpiLine:
    key: str
    name: str
    value: str
    change: str
    meaning: str
    missing: bool


@dataclass(frozen=True)
class ThetaView:
    current: str
    se: str
    percentile: str
    level: str
    growth_rate: str
    growth_key: str
    growth_message: str
    chart: Chart | None
    rows: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class ItemsView:
    total: int
    easier: str
    harder: str
    seen: int
    message: str | None
    chart: Chart | None


@dataclass(frozen=True)
class TopicLine:
    name: str
    attempts: int
    correct: int
    accuracy: str
    theta: str


@dataclass(frozen=True)
class DailyView:
    rows: tuple[tuple[str, int], ...]
    total: int
    chart: Chart
    adaptive: str | None = None  # "Adaptive practice: N questions …" (None when there were none)


@dataclass(frozen=True)
class GoalView:
    topic: str
    target: str
    date: str
    probability: str


@dataclass(frozen=True)
class ChurnView:
    value: str
    band: str
    band_name: str
    notice: str | None


@dataclass(frozen=True)
class ReportView:
    """All text of one report; ``labels`` is the language's label table (for headings)."""

    lang: Lang
    labels: Mapping[str, str]
    page_title: str
    student: str
    user_id: str
    week: str
    generated: str
    kpis: tuple[KpiLine, ...]
    theta: ThetaView
    items: ItemsView
    topics: tuple[TopicLine, ...]
    daily: DailyView
    goal: GoalView | None
    churn: ChurnView
    recommendations: tuple[str, ...]


@functools.lru_cache(maxsize=8)
def bank_array(difficulties: tuple[float, ...]) -> npt.NDArray[np.float64]:
    """The item bank's finite b as an array, shape (n_items,); cached as students share one bank."""
    bank = np.asarray(difficulties, dtype=np.float64)
    return bank[np.isfinite(bank)]


def kpi_lines(data: ReportData, labels: Mapping[str, str]) -> tuple[KpiLine, ...]:
    na, previous = labels["na"], data.previous_kpis
    lines = []
    for key in KPI_NAMES:
        value = getattr(data.kpis, key)
        before = getattr(previous, key) if previous is not None else None
        text = formatting.kpi_text(key, value, na)
        change = formatting.change_text(value, before, na)
        lines.append(KpiLine(key, labels[f"kpi_{key}"], text, change, labels[f"help_{key}"], text == na))
    return tuple(lines)


def theta_view(
    history: tuple[ThetaPoint, ...], theta: float | None, se: float | None, labels: Mapping[str, str]
) -> ThetaView:
    na = labels["na"]
    rate = summaries.growth_per_week(history)
    growth_key = summaries.growth_category_of(rate)
    chart = None
    if history:
        desc = labels["theta_chart_desc"].format(
            count=len(history), start=history[0].date.isoformat(), end=history[-1].date.isoformat()
        )
        chart = Chart(
            charts.theta_trend_svg(history, labels["theta_chart_title"], desc),
            labels["theta_chart_title"],
            desc,
        )
    rows = tuple(
        (p.date.isoformat(), formatting.theta_text(p.theta, na), formatting.se_text(p.se, na))
        for p in history
    )
    return ThetaView(
        current=formatting.theta_text(theta, na),
        se=formatting.se_text(se, na),
        percentile=na if theta is None else f"{summaries.percentile_of(theta):.1f}",
        level=na if theta is None else labels[f"level_{summaries.level_band_of(theta)}"],
        growth_rate=formatting.theta_text(rate, na),
        growth_key=growth_key,
        growth_message=labels[f"growth_{growth_key}"],
        chart=chart,
        rows=rows,
    )


def items_view(
    data: ReportData, theta: float | None, easier: int, harder: int, labels: Mapping[str, str]
) -> ItemsView:
    bank = bank_array(data.item_difficulties)
    seen = np.asarray(data.seen_item_difficulties, dtype=np.float64)
    seen = seen[np.isfinite(seen)]
    balance = summaries.item_balance_of(easier, harder)
    known = theta is not None and bank.size > 0
    chart = None
    if bank.size:
        desc = labels["hist_desc"].format(count=bank.size, theta=formatting.theta_text(theta, labels["na"]))
        svg = charts.difficulty_histogram_svg(bank, theta, seen, labels["hist_title"], desc)
        chart = Chart(svg, labels["hist_title"], desc)
    return ItemsView(
        total=int(bank.size),
        easier=str(easier) if known else labels["na"],
        harder=str(harder) if known else labels["na"],
        seen=int(seen.size),
        message=None if balance is None else labels[f"items_msg_{balance}"],
        chart=chart,
    )


def topic_lines(data: ReportData, labels: Mapping[str, str]) -> tuple[TopicLine, ...]:
    na = labels["na"]
    return tuple(
        TopicLine(
            name=topic.name or topic.topic_id,
            attempts=topic.attempts,
            correct=topic.correct,
            accuracy=formatting.percent_text(summaries.accuracy_of(topic), na),
            theta=formatting.theta_text(topic.theta, na),
        )
        for topic in data.topics
    )


def daily_view(data: ReportData, labels: Mapping[str, str]) -> DailyView:
    days = [labels[f"day_{index}"] for index in range(DAYS_PER_WEEK)]
    counts = [max(0, int(count)) for count in data.daily_attempts]
    total = sum(counts)
    listing = ", ".join(f"{day} {count}" for day, count in zip(days, counts, strict=True))
    desc = labels["daily_desc"].format(counts=listing, total=total)
    chart = Chart(
        charts.daily_attempts_svg(counts, days, labels["daily_title"], desc), labels["daily_title"], desc
    )
    count = max(0, int(data.adaptive_answers))
    adaptive = labels["adaptive_answers"].format(count=count) if count else None
    return DailyView(rows=tuple(zip(days, counts, strict=True)), total=total, chart=chart, adaptive=adaptive)


def goal_view(data: ReportData, labels: Mapping[str, str]) -> GoalView | None:
    """The goal's lines; once its target date is within the report (as of ``last_day``), the outcome
    ("reached" / "missed") replaces the probability of reaching it."""
    goal, na = data.goal, labels["na"]
    if goal is None:
        return None
    outcome = goal_outcome(data)
    if outcome is not None:
        chance = labels[f"goal_{outcome}"]
    else:
        probability = goal.probability if summaries.finite(goal.probability) is not None else data.kpis.P
        chance = na if goal_is_past(data) else formatting.percent_text(probability, na)
    return GoalView(
        topic=goal.topic or na,
        target=formatting.theta_text(goal.target_level, na),
        date=formatting.date_text(goal.target_date, na),
        probability=chance,
    )


def goal_is_past(data: ReportData) -> bool:
    """True when the goal's target date is on or before the report's last day."""
    return (
        data.goal is not None and data.goal.target_date is not None and data.goal.target_date <= data.last_day
    )


def goal_outcome(data: ReportData) -> str | None:
    """ "reached" or "missed" for a goal whose date has passed; None while it is ahead or undecidable.

    The level at the deadline is the latest θ estimate on or before the target date (else the current
    θ); reached when it is at least the target level.
    """
    goal = data.goal
    level = summaries.finite(goal.target_level) if goal is not None else None
    if goal is None or goal.target_date is None or level is None or not goal_is_past(data):
        return None
    deadline = goal.target_date
    before = [point for point in data.theta_history if point.date <= deadline]
    theta = summaries.finite(max(before, key=lambda point: point.date).theta if before else data.theta)
    if theta is None:
        return None
    return "reached" if theta >= level else "missed"


def churn_view(data: ReportData, labels: Mapping[str, str]) -> ChurnView:
    band = summaries.churn_band_of(data.kpis.S) or "unknown"
    notice = None
    if data.inactive_since is not None:
        days = data.days_inactive
        if days is None:
            days = (data.generated_at.date() - data.inactive_since).days
        notice = labels["inactive_notice"].format(date=data.inactive_since.isoformat(), days=days)
    value = formatting.kpi_text("S", data.kpis.S, labels["na"])
    return ChurnView(value=value, band=band, band_name=labels[f"churn_{band}"], notice=notice)


def report_view(data: ReportData) -> ReportView:
    """Everything the report shows, formatted and translated for ``data.lang``."""
    labels = labels_for(data.lang)
    history = summaries.recent_history(data.theta_history, data.last_day)
    theta, se = summaries.current_theta_of(data.theta, data.theta_se, history)
    easier, harder = summaries.items_around(bank_array(data.item_difficulties), theta)
    balance = summaries.item_balance_of(easier, harder)
    facts = RuleInputs(data, summaries.growth_per_week(history), balance, theta)
    student = f"{data.display_name} ({data.user_id})" if data.display_name else data.user_id
    week = f"{data.week_start.isoformat()} – {data.last_day.isoformat()}"
    return ReportView(
        lang=data.lang,
        labels=labels,
        page_title=f"{labels['title']} · {student} · {week}",
        student=student,
        user_id=data.user_id,
        week=week,
        generated=formatting.datetime_text(data.generated_at),
        kpis=kpi_lines(data, labels),
        theta=theta_view(history, theta, se, labels),
        items=items_view(data, theta, easier, harder, labels),
        topics=topic_lines(data, labels),
        daily=daily_view(data, labels),
        goal=goal_view(data, labels),
        churn=churn_view(data, labels),
        recommendations=tuple(r.text for r in recommendations_for(facts, labels)),
    )
