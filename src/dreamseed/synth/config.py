"""What to generate (`SynthConfig`) and the model's constants (`SynthModel`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any


@dataclasses.dataclass(frozen=True)
class SynthModel:
    """Constants of the generative model (see the package docstring for how each is used).

    Rates are per week, times in seconds, θ on the usual N(0, 1) scale.
    """

    # Items (3PL)
    a_log_mean: float = 0.18  # log a ~ N(0.18, 0.25): median a ≈ 1.2
    a_log_sd: float = 0.25
    b_sd: float = 1.0
    c_alpha: float = 5.0  # c ~ Beta(5, 20): mean 0.2
    c_beta: float = 20.0
    anchor_share: float = 0.10
    difficulty_noise_sd: float = 0.3  # the platform's `difficulty` for uncalibrated items = b + noise
    # Students
    start_on_first_day_share: float = 0.65
    growth_flat_share: float = 0.15
    growth_negative_share: float = 0.05
    growth_mean: float = 0.08  # θ per active week, growing students
    growth_sd: float = 0.05
    growth_negative_mean: float = -0.06
    activity_shape: float = 1.5  # sessions per week ~ Gamma(shape, mean / shape)
    activity_mean: float = 1.1
    routine_share: float = 0.7  # students who keep a steady pace; the rest are Poisson
    selection_bias_mean: float = -0.3  # item targets sit at θ(t − lag) + bias: accuracy ≈ 0.65
    selection_bias_sd: float = 0.4
    selection_lag_days: float = 14.0
    # Churn: weekly logit of starting to disengage
    churn_intercept: float = -3.4
    churn_low_activity: float = -0.8  # × log(rate / activity_mean)
    churn_low_success: float = -3.5  # × (accuracy over 14 days − 0.65)
    churn_declining_success: float = -2.0  # × (accuracy last 7 days − accuracy 7 days before)
    churn_gap: float = 0.45  # × days since last session / 7 (capped at 3 weeks)
    churn_new_student: float = 0.4  # in the first two weeks after the start
    churn_frailty_sd: float = 0.6  # unobserved per-student frailty
    disengage_min_days: int = 7
    disengage_max_days: int = 21
    # Sessions
    fixed_session_sizes: tuple[int, ...] = (10, 20, 30)  # common fixed-length exams
    fixed_session_shares: tuple[float, ...] = (0.15, 0.35, 0.2)  # the rest: uniform 5–40 questions
    two_topic_share: float = 0.35
    # Response times: log seconds
    time_log_median: float = 3.85  # e^3.85 ≈ 47 s
    time_difficulty: float = 0.25  # × (b − θ)
    time_ability: float = -0.15  # × θ
    time_correct: float = -0.2
    time_student_sd: float = 0.25
    time_noise_sd: float = 0.5
    # Hints: logit P(any hint)
    hint_intercept: float = -2.2
    hint_difficulty: float = 0.8  # × (b − θ)
    hint_student_sd: float = 0.7
    # Goals
    goal_share: float = 0.85
    goal_no_date_share: float = 0.1
    goal_gap_min: float = 0.0  # target = θ0 + U(min, max), rounded to 0.1
    goal_gap_max: float = 0.8


@dataclasses.dataclass(frozen=True)
class SynthConfig:
    """A synthetic platform: `students` over `weeks` weeks ending on `end_date` (inclusive).

    `bad_rows` malformed lines or questions are spread through exam_results.jsonl.
    """

    students: int
    weeks: int
    seed: int
    end_date: dt.date
    topics: int = 8
    items_per_topic: int = 60
    bad_rows: int = 0
    model: SynthModel = dataclasses.field(default_factory=SynthModel)

    def __post_init__(self) -> None:
        checks = {
            "students must be ≥ 1": self.students >= 1,
            "weeks must be ≥ 1": self.weeks >= 1,
            "topics must be ≥ 1": self.topics >= 1,
            "items_per_topic must be ≥ 10": self.items_per_topic >= 10,
            "bad_rows must be ≥ 0": self.bad_rows >= 0,
            "seed must be ≥ 0": self.seed >= 0,
        }
        failed = [message for message, ok in checks.items() if not ok]
        if failed:
            raise ValueError("; ".join(failed))

    @property
    def days(self) -> int:
        """Length of the period in days."""
        return 7 * self.weeks

    @property
    def start_date(self) -> dt.date:
        """First day of the period (UTC)."""
        return self.end_date - dt.timedelta(days=self.days - 1)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready description, for `truth/meta.json`."""
        values = dataclasses.asdict(self)
        values["end_date"] = self.end_date.isoformat()
        values["start_date"] = self.start_date.isoformat()
        return values
