"""When students study: weekly disengagement hazard, daily session counts, and session clock times."""

from __future__ import annotations

import dataclasses

import numpy as np

from dreamseed.synth.config import SynthModel
from dreamseed.synth.students import NEVER, Students

SECONDS_PER_DAY = 86_400
WEEKDAY_WEIGHTS = np.array([0.95, 0.95, 0.95, 0.95, 0.9, 1.15, 1.15])  # Monday … Sunday
NEUTRAL_ACCURACY = 0.65
GAP_BETWEEN_SESSIONS_SEC = 300
KST_OFFSET_HOURS = 9


@dataclasses.dataclass
class ActivityState:
    """Mutable per-student state of the weekly simulation (internal to `simulate`), arrays (students,).

    `answered` and `correct` are (2, students): row 0 the last simulated week, row 1 the week before.
    `paced` is the cumulative expected sessions of students with a routine (plus a random phase).
    """

    disengage_day: np.ndarray
    stop_day: np.ndarray
    last_session_day: np.ndarray
    answered: np.ndarray
    correct: np.ndarray
    paced: np.ndarray

    @classmethod
    def initial(cls, students: Students) -> ActivityState:
        n = students.count
        return cls(
            disengage_day=np.full(n, NEVER),
            stop_day=np.full(n, NEVER),
            last_session_day=students.start_day.astype(np.float64),
            answered=np.zeros((2, n)),
            correct=np.zeros((2, n)),
            paced=students.pace_phase.copy(),
        )

    def record_week(
        self, user: np.ndarray, day: np.ndarray, answered: np.ndarray, correct: np.ndarray
    ) -> None:
        """Shift the weekly window and add this week's sessions (user, day, answered, correct: (S,))."""
        n = self.stop_day.size
        self.answered = np.stack([np.bincount(user, answered, minlength=n), self.answered[0]])
        self.correct = np.stack([np.bincount(user, correct, minlength=n), self.correct[0]])
        latest = np.full(n, -np.inf)
        np.maximum.at(latest, user, day.astype(np.float64))
        self.last_session_day = np.maximum(self.last_session_day, latest)


def churn_logit(week: int, students: Students, state: ActivityState, model: SynthModel) -> np.ndarray:
    """Logit of starting to disengage this week (students,), from what the platform could observe.

    Terms: low base activity, low accuracy over the last 14 days, accuracy falling week on week,
    days since the last session, being new (first two weeks), plus an unobserved frailty.
    """
    first_day = 7 * week
    answered14, correct14 = state.answered.sum(axis=0), state.correct.sum(axis=0)
    accuracy14 = np.divide(
        correct14, answered14, out=np.full_like(correct14, NEUTRAL_ACCURACY), where=answered14 > 0
    )
    both_weeks = (state.answered >= 5).all(axis=0)
    weekly_accuracy = np.divide(state.correct, np.maximum(state.answered, 1.0))
    decline = np.where(both_weeks, weekly_accuracy[0] - weekly_accuracy[1], 0.0)
    gap_weeks = np.minimum(first_day - state.last_session_day, 21.0) / 7.0
    new_student = (first_day - students.start_day) < 14
    return (
        model.churn_intercept
        + model.churn_low_activity * np.log(students.rate / model.activity_mean)
        + model.churn_low_success * (accuracy14 - NEUTRAL_ACCURACY)
        + model.churn_declining_success * decline
        + model.churn_gap * gap_weeks
        + model.churn_new_student * new_student
        + students.frailty
    )


def start_disengaging(
    week: int, students: Students, state: ActivityState, model: SynthModel, rng: np.random.Generator
) -> None:
    """Draw who starts to disengage this week; they stop for good 7–21 days later (mutates `state`).

    Only students who joined before this week and are not already leaving are at risk.
    """
    first_day = 7 * week
    probability = 1.0 / (1.0 + np.exp(-churn_logit(week, students, state, model)))
    at_risk = np.isinf(state.stop_day) & (students.start_day < first_day)
    leaving = at_risk & (rng.random(students.count) < probability)
    onset = first_day + rng.integers(0, 7, students.count)
    length = rng.integers(model.disengage_min_days, model.disengage_max_days + 1, students.count)
    state.disengage_day = np.where(leaving, onset, state.disengage_day)
    state.stop_day = np.where(leaving, onset + length, state.stop_day)


def daily_session_counts(
    week: int, first_weekday: int, students: Students, state: ActivityState, rng: np.random.Generator
) -> np.ndarray:
    """Sessions per student and day of the week, (students, 7) ints (updates `state.paced`).

    Expected sessions per day = base rate × a weekly Gamma(4)/4 wobble / 7 × a weekday weight;
    zero before the start day and from the stop day; ramping from 55% down to ~10% while
    disengaging. Students with a routine keep pace (a week's count is the growth of
    floor(cumulative expected sessions), spread over the days by weight); the others are Poisson.
    Everyone has at least one session on their start day.
    """
    days = 7 * week + np.arange(7)
    weekday = WEEKDAY_WEIGHTS[(first_weekday + days) % 7]
    member = (days[None, :] >= students.start_day[:, None]) & (days[None, :] < state.stop_day[:, None])
    wobble = rng.gamma(4.0, 0.25, students.count)
    expected = (
        (students.rate * wobble / 7.0)[:, None]
        * weekday[None, :]
        * np.where(member, _fading(days, state), 0.0)
    )
    poisson = rng.poisson(expected)
    paced = _paced_counts(expected, state, rng)
    counts = np.where(students.routine[:, None], paced, poisson)
    first_session = days[None, :] == students.start_day[:, None]
    return np.where(first_session, np.maximum(counts, 1), counts)


def _fading(days: np.ndarray, state: ActivityState) -> np.ndarray:
    """Activity multiplier (students, 7): 1, or 0.55 → 0.1 from the disengage day to the stop day."""
    leaving = np.isfinite(state.disengage_day)
    onset = np.where(leaving, state.disengage_day, 0.0)[:, None]
    length = np.where(leaving, state.stop_day - onset[:, 0], 1.0)[:, None]
    ramp = 0.55 - 0.45 * (days[None, :] - onset) / length
    return np.where(leaving[:, None] & (days[None, :] >= onset), ramp, 1.0)


def _paced_counts(expected: np.ndarray, state: ActivityState, rng: np.random.Generator) -> np.ndarray:
    """(students, 7) counts whose weekly total follows floor(cumulative expectation)."""
    week_total = expected.sum(axis=1)
    total = (np.floor(state.paced + week_total) - np.floor(state.paced)).astype(np.int64)
    state.paced = state.paced + week_total
    weights = np.where(week_total[:, None] > 0, expected / np.maximum(week_total, 1e-12)[:, None], 1.0 / 7.0)
    return rng.multinomial(total, weights)


def start_seconds(day: np.ndarray, first_weekday: int, rng: np.random.Generator) -> np.ndarray:
    """Second of the UTC day (S,) at which each session starts: Korean study times.

    Weekdays: mostly evenings (~21:00 KST), some afternoons (~16:30); weekends: more afternoons.
    A few anywhere from 09:00 to 02:00 KST. Every time maps into the same UTC day (KST 09:00 = 00:00Z).
    """
    weekend = ((first_weekday + day) % 7) >= 5
    kind = rng.random(day.size)
    evening, afternoon = np.where(weekend, 0.4, 0.65), np.where(weekend, 0.45, 0.28)
    hours = np.where(
        kind < evening,
        rng.normal(21.0, 1.3, day.size),
        np.where(
            kind < evening + afternoon,
            rng.normal(np.where(weekend, 14.5, 16.5), np.where(weekend, 2.0, 1.5)),
            rng.uniform(9.0, 26.0, day.size),
        ),
    )
    hours = np.clip(hours, 9.0, 26.5)
    return np.rint((hours - KST_OFFSET_HOURS) * 3600.0).astype(np.int64)


def settle_clock(user: np.ndarray, day: np.ndarray, start: np.ndarray, duration: np.ndarray) -> np.ndarray:
    """Session start seconds (S,) such that a student's sessions on one day do not overlap.

    Sessions of the same (user, day) run in start order, each at least 5 minutes after the last
    ended (a max-plus scan); every session still ends within its UTC day.
    """
    order = np.argsort((user * (day.max(initial=0) + 1) + day) * SECONDS_PER_DAY + start, kind="stable")
    u, d, s, length = user[order], day[order], start[order], duration[order]
    new_group = np.ones(u.size, dtype=bool)
    new_group[1:] = (u[1:] != u[:-1]) | (d[1:] != d[:-1])
    group = np.cumsum(new_group)
    step = length + GAP_BETWEEN_SESSIONS_SEC
    before = np.cumsum(step) - step  # sum of steps of earlier sessions
    span = int(before[-1] + step[-1]) + SECONDS_PER_DAY + 1 if u.size else 1
    shifted = np.maximum.accumulate(s - before + group * span) - group * span + before
    settled = np.empty_like(start)
    settled[order] = np.minimum(shifted, SECONDS_PER_DAY - 1 - length)
    return np.maximum(settled, 0)
