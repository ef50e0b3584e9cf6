"""The student population: abilities, growth, activity, topic interests and latent traits."""

from __future__ import annotations

import dataclasses

import numpy as np

from dreamseed.synth.config import SynthConfig
from dreamseed.synth.items import ItemBank

NEVER = np.inf  # a stop day for students who do not churn


@dataclasses.dataclass(frozen=True)
class Students:
    """Per-student truth, arrays of shape (students,) unless stated.

    Days count from the first day of the period (day 0 = `start_date` 00:00 UTC).
    """

    theta0: np.ndarray  # θ before and at the start day
    growth: np.ndarray  # θ per week while a member (until the churn day)
    rate: np.ndarray  # base sessions per week
    start_day: np.ndarray  # int, first day on the platform (a session is forced that day)
    routine: np.ndarray  # bool, studies at a steady pace (else Poisson-bursty)
    pace_phase: np.ndarray  # U(0, 1) phase of the steady pace
    frailty: np.ndarray  # unobserved churn propensity (logit scale)
    speed: np.ndarray  # log response-time offset
    hint_propensity: np.ndarray  # logit offset for using hints
    selection_bias: np.ndarray  # where the platform aims items relative to the lagged θ
    topic_cdf: np.ndarray  # (students, topics) cumulative topic interest, last column 1
    favourite_topic: np.ndarray  # int, topic with the largest interest

    @property
    def count(self) -> int:
        return int(self.theta0.shape[0])

    def user_ids(self) -> np.ndarray:
        """Platform ids `u000000`, `u000001`, … as an object array of str."""
        width = max(6, len(str(self.count - 1)))
        return np.array([f"u{k:0{width}d}" for k in range(self.count)], dtype=object)


def student_population(config: SynthConfig, bank: ItemBank, rng: np.random.Generator) -> Students:
    """Draw `config.students` students (θ0 ~ N(0, 1), growth mixture, rate ~ Gamma)."""
    model, n = config.model, config.students
    late = rng.random(n) >= model.start_on_first_day_share
    start_day = np.where(late, rng.integers(1, max(2, config.days), n), 0)
    topic_cdf, favourite = _topic_interests(n, bank.subject_of_topic, rng)
    return Students(
        theta0=np.round(rng.normal(0.0, 1.0, n), 4),
        growth=_growth_rates(config, n, rng),
        rate=np.round(
            np.clip(rng.gamma(model.activity_shape, model.activity_mean / model.activity_shape, n), 0.15, 14),
            4,
        ),
        start_day=np.minimum(start_day, config.days - 1).astype(np.int64),
        routine=rng.random(n) < model.routine_share,
        pace_phase=rng.random(n),
        frailty=rng.normal(0.0, model.churn_frailty_sd, n),
        speed=rng.normal(0.0, model.time_student_sd, n),
        hint_propensity=rng.normal(0.0, model.hint_student_sd, n),
        selection_bias=rng.normal(model.selection_bias_mean, model.selection_bias_sd, n),
        topic_cdf=topic_cdf,
        favourite_topic=favourite,
    )


def _growth_rates(config: SynthConfig, n: int, rng: np.random.Generator) -> np.ndarray:
    """θ per week: a share flat (0), a few negative, the rest positive around growth_mean."""
    model = config.model
    kind = rng.random(n)
    positive = np.clip(rng.normal(model.growth_mean, model.growth_sd, n), 0.005, None)
    negative = np.clip(rng.normal(model.growth_negative_mean, model.growth_sd / 2, n), None, -0.01)
    flat = kind < model.growth_flat_share
    falling = (kind >= model.growth_flat_share) & (
        kind < model.growth_flat_share + model.growth_negative_share
    )
    return np.round(np.where(flat, 0.0, np.where(falling, negative, positive)), 4)


def _topic_interests(
    n: int, subject_of_topic: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Each student studies one subject; Dirichlet interests over its topics. Returns (cdf, favourite)."""
    subjects = np.unique(subject_of_topic)
    subject = subjects[rng.integers(0, subjects.size, n)]
    in_subject = subject[:, None] == subject_of_topic[None, :]
    weights = rng.gamma(1.0, 1.0, (n, subject_of_topic.size)) * in_subject
    weights /= weights.sum(axis=1, keepdims=True)
    cdf = np.cumsum(weights, axis=1)
    cdf[:, -1] = 1.0
    return cdf, np.argmax(weights, axis=1)


def theta_at(
    students: Students, stop_day: np.ndarray, day: np.ndarray, who: np.ndarray | None = None
) -> np.ndarray:
    """True θ at fractional `day` (days since the period start).

    θ(t) = θ0 + growth · max(0, min(t, stop_day) − start_day) / 7: growth starts on the start day
    and is frozen from the churn day (`stop_day`, +inf for students who stay). `who` selects the
    students `day` refers to (same shape as `day`); all students when None.
    """
    index = slice(None) if who is None else who
    active_days = np.clip(np.minimum(day, stop_day[index]) - students.start_day[index], 0.0, None)
    return students.theta0[index] + students.growth[index] * active_days / 7.0
