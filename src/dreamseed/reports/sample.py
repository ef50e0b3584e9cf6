"""Deterministic synthetic `ReportData` for tests, benchmarks and the demo (no clock, seeded RNG)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from typing import Any

import numpy as np

from dreamseed.reports.data import DAYS_PER_WEEK, Goal, Kpis, Lang, ReportData, ThetaPoint, TopicRow

SAMPLE_WEEK_START = dt.date(2025, 3, 3)
SAMPLE_BANK_SIZE = 600
SAMPLE_TOPICS: tuple[tuple[str, str, str], ...] = (
    ("algebra", "Algebra", "대수"),
    ("geometry", "Geometry", "기하"),
    ("probability", "Probability", "확률과 통계"),
    ("functions", "Functions", "함수"),
    ("sequences", "Sequences", "수열"),
)


@functools.lru_cache(maxsize=1)
def sample_item_bank() -> tuple[float, ...]:
    """A fixed item bank of `SAMPLE_BANK_SIZE` difficulties b ~ N(0, 1.1²), shared by all samples."""
    rng = np.random.default_rng(20250303)
    return tuple(float(b) for b in np.round(rng.normal(0.0, 1.1, SAMPLE_BANK_SIZE), 3))


def sample_theta_history(rng: np.random.Generator, week_start: dt.date) -> tuple[ThetaPoint, ...]:
    """Eight weekly θ estimates ending on the reported week's Sunday, with shrinking SE."""
    start, slope = rng.normal(0.0, 0.8), rng.normal(0.04, 0.06)
    sundays = [week_start + dt.timedelta(days=6 - 7 * back) for back in range(7, -1, -1)]
    return tuple(
        ThetaPoint(day, round(start + slope * i + rng.normal(0, 0.05), 3), round(0.45 - 0.03 * i, 3))
        for i, day in enumerate(sundays)
    )


def sample_topics(rng: np.random.Generator, lang: Lang) -> tuple[TopicRow, ...]:
    """Three to five topics with random attempts, accuracy and θ."""
    count = int(rng.integers(3, len(SAMPLE_TOPICS) + 1))
    rows = []
    for topic_id, name_en, name_ko in SAMPLE_TOPICS[:count]:
        attempts = int(rng.integers(4, 40))
        correct = int(rng.binomial(attempts, rng.uniform(0.35, 0.9)))
        theta = round(float(rng.normal(0, 0.9)), 3)
        rows.append(TopicRow(topic_id, attempts, correct, theta, 0.35, name_ko if lang == "ko" else name_en))
    return tuple(rows)


def sample_kpis(rng: np.random.Generator) -> Kpis:
    """Plausible KPI values: I_t in [−0.3, 0.3], the others in [0, 1]."""
    values = np.round(rng.uniform(0.0, 1.0, 5), 3)
    return Kpis(round(float(rng.uniform(-0.3, 0.3)), 3), *(float(v) for v in values))


def sample_report_data(
    user_id: str = "student-0001",
    *,
    seed: int = 0,
    lang: Lang = "ko",
    week_start: dt.date = SAMPLE_WEEK_START,
    **overrides: Any,
) -> ReportData:
    """A complete, plausible report for one synthetic student; ``overrides`` replace any field.

    The same ``seed`` always gives the same data; ``generated_at`` is the next Monday 04:00 (the
    original job's schedule) unless overridden.
    """
    rng = np.random.default_rng(seed)
    history = sample_theta_history(rng, week_start)
    kpis = sample_kpis(rng)
    goal = Goal("algebra", 1.0, week_start + dt.timedelta(days=60), kpis.P) if rng.uniform() < 0.7 else None
    seen = tuple(rng.choice(np.asarray(sample_item_bank()), size=int(rng.integers(5, 30)), replace=False))
    data = ReportData(
        user_id=user_id,
        display_name=None,
        week_start=week_start,
        generated_at=dt.datetime.combine(week_start + dt.timedelta(days=DAYS_PER_WEEK), dt.time(4, 0)),
        lang=lang,
        kpis=kpis,
        previous_kpis=sample_kpis(rng),
        theta_history=history,
        theta=history[-1].theta,
        theta_se=history[-1].se,
        item_difficulties=sample_item_bank(),
        seen_item_difficulties=tuple(float(b) for b in seen),
        topics=sample_topics(rng, lang),
        daily_attempts=tuple(int(n) for n in rng.poisson(6.0, DAYS_PER_WEEK)),
        goal=goal,
    )
    return dataclasses.replace(data, **overrides) if overrides else data
