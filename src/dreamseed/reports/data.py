"""What one student's weekly report shows: plain, frozen values handed to the renderers.

Everything the report needs is passed in (including the generation time and the language); the
renderers read no clock, database or environment. Numbers may be ``None`` (shown as "N/A") and
non-finite floats are treated as missing by the renderers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

Lang = Literal["ko", "en"]
LANGS: tuple[Lang, ...] = ("ko", "en")
DAYS_PER_WEEK = 7


@dataclass(frozen=True)
class Kpis:
    """The six weekly KPIs (DESIGN §5); each is ``None`` when its data is missing.

    I_t improvement in [−1, 1]; E_t time efficiency, R_t recovery, A_t engagement, P goal
    probability and S churn risk in [0, 1].
    """

    I_t: float | None = None
    E_t: float | None = None
    R_t: float | None = None
    A_t: float | None = None
    P: float | None = None
    S: float | None = None


KPI_NAMES: tuple[str, ...] = ("I_t", "E_t", "R_t", "A_t", "P", "S")


@dataclass(frozen=True)
class ThetaPoint:
    """One ability estimate: θ (logits) and its standard error on ``date``."""

    date: dt.date
    theta: float
    se: float | None = None


@dataclass(frozen=True)
class TopicRow:
    """One topic's week: attempts, correct answers and the topic θ (± SE) when estimated."""

    topic_id: str
    attempts: int
    correct: int
    theta: float | None = None
    se: float | None = None
    name: str | None = None


@dataclass(frozen=True)
class Goal:
    """The student's goal: a topic and/or target θ by a date, and the probability of reaching it."""

    topic: str | None = None
    target_level: float | None = None
    target_date: dt.date | None = None
    probability: float | None = None


@dataclass(frozen=True)
class ReportData:
    """Everything one student's weekly report shows.

    - ``week_start`` is the Monday of the reported ISO week; ``week_end`` defaults to Sunday.
    - ``theta_history``: ability estimates (any order); the report shows the 8 weeks up to
      ``week_end``.
    - ``theta``/``theta_se``: the current ability; when ``theta`` is ``None`` the latest history
      point is used.
    - ``item_difficulties``: the item bank's difficulties b (logits), shape (n_items,);
      ``seen_item_difficulties`` the b of items the student answered this week (optional).
    - ``daily_attempts``: attempts on each day Monday..Sunday, exactly 7 values.
    - ``inactive_since``: set when the inactivity job flagged the student (last activity date);
      ``days_inactive`` the days since then as of the job date.
    - ``previous_kpis``: last week's KPIs, for the change column (optional).
    - ``adaptive_answers``: questions answered this week in adaptive sessions (next-item, counted
      from cat_events); the report mentions them only when there are some.
    """

    user_id: str
    week_start: dt.date
    generated_at: dt.datetime
    lang: Lang = "ko"
    display_name: str | None = None
    week_end: dt.date | None = None
    kpis: Kpis = field(default_factory=Kpis)
    previous_kpis: Kpis | None = None
    theta_history: tuple[ThetaPoint, ...] = ()
    theta: float | None = None
    theta_se: float | None = None
    item_difficulties: tuple[float, ...] = ()
    seen_item_difficulties: tuple[float, ...] = ()
    topics: tuple[TopicRow, ...] = ()
    daily_attempts: tuple[int, ...] = (0,) * DAYS_PER_WEEK
    goal: Goal | None = None
    inactive_since: dt.date | None = None
    days_inactive: int | None = None
    adaptive_answers: int = 0

    def __post_init__(self) -> None:
        if self.lang not in LANGS:
            raise ValueError(f"lang must be one of {LANGS}, got {self.lang!r}")
        if len(self.daily_attempts) != DAYS_PER_WEEK:
            raise ValueError(f"daily_attempts needs {DAYS_PER_WEEK} values, got {len(self.daily_attempts)}")
        if self.week_end is None:
            object.__setattr__(self, "week_end", self.week_start + dt.timedelta(days=DAYS_PER_WEEK - 1))

    @property
    def last_day(self) -> dt.date:
        """The last day of the reported week (``week_end``, Sunday by default)."""
        assert self.week_end is not None
        return self.week_end
