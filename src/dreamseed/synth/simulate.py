"""The week-by-week simulation of every student's sessions, vectorised across students."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import numpy as np

from dreamseed.synth.activity import (
    SECONDS_PER_DAY,
    ActivityState,
    daily_session_counts,
    settle_clock,
    start_disengaging,
    start_seconds,
)
from dreamseed.synth.config import SynthConfig
from dreamseed.synth.items import ItemBank
from dreamseed.synth.responses import SessionAnswers, answer_sessions
from dreamseed.synth.students import Students

Progress = Callable[[str, int, int], None]
"""Progress callback: (stage, done, total), e.g. ("simulate", 3, 8) after week 3 of 8."""

ACTIVITY_STREAM = 3  # seeds the per-week random streams: [seed, ACTIVITY_STREAM, week]


@dataclasses.dataclass(frozen=True)
class SimulatedActivity:
    """Every session of the period in file order (by start time, then user).

    Session arrays are (S,): `user` (student index), `day` (days since the period start),
    `created` and `updated` (Unix seconds, UTC; updated − created = the sum of the question
    times, rounded up), `exam_id` (subject of the session's first topic). `answers` holds the
    questions with session indices into these arrays. `disengage_day` and `stop_day` are
    (students,): when each student started to disengage and the day they stopped for good
    (+inf when it did not happen in the simulation; the stop day may lie after the period).
    """

    user: np.ndarray
    day: np.ndarray
    created: np.ndarray
    updated: np.ndarray
    exam_id: np.ndarray
    answers: SessionAnswers
    disengage_day: np.ndarray
    stop_day: np.ndarray


def simulate_activity(
    config: SynthConfig, bank: ItemBank, students: Students, progress: Progress | None = None
) -> SimulatedActivity:
    """Run the weeks in order: churn hazard, then the week's sessions and their answers."""
    state = ActivityState.initial(students)
    first_weekday = config.start_date.weekday()
    period_start = int((config.start_date - dt.date(1970, 1, 1)).days) * SECONDS_PER_DAY
    weeks = []
    for week in range(config.weeks):
        rng = np.random.default_rng([config.seed, ACTIVITY_STREAM, week])
        start_disengaging(week, students, state, config.model, rng)
        weeks.append(_simulate_week(week, first_weekday, students, bank, state, config, rng))
        if progress is not None:
            progress("simulate", week + 1, config.weeks)
    user, day, start, duration, answers = _concatenate(weeks)
    created = period_start + day * SECONDS_PER_DAY + start
    first_question = np.cumsum(answers.size) - answers.size
    return SimulatedActivity(
        user=user,
        day=day,
        created=created,
        updated=created + duration,
        exam_id=bank.subject_of_topic[bank.topic[answers.item[first_question]]],
        answers=answers,
        disengage_day=state.disengage_day,
        stop_day=state.stop_day,
    )


WeekSessions = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, SessionAnswers]


def _simulate_week(
    week: int,
    first_weekday: int,
    students: Students,
    bank: ItemBank,
    state: ActivityState,
    config: SynthConfig,
    rng: np.random.Generator,
) -> WeekSessions:
    """One week's sessions in time order: (user, day, start second, duration seconds, answers)."""
    counts = daily_session_counts(week, first_weekday, students, state, rng)
    who, weekday_index = np.nonzero(counts)
    repeats = counts[who, weekday_index]
    user, day = np.repeat(who, repeats), 7 * week + np.repeat(weekday_index, repeats)
    start = start_seconds(day, first_weekday, rng)
    answers = answer_sessions(
        user, day + start / SECONDS_PER_DAY, state.stop_day, students, bank, config.model, rng
    )
    tenths = np.bincount(answers.session, answers.time_tenths, minlength=user.size)
    duration = np.ceil(tenths / 10.0).astype(np.int64)
    start = settle_clock(user, day, start, duration)
    state.record_week(
        user, day, answers.size, np.bincount(answers.session, answers.correct, minlength=user.size)
    )
    order = np.argsort((day * SECONDS_PER_DAY + start) * students.count + user, kind="stable")
    return user[order], day[order], start[order], duration[order], _reorder_sessions(answers, order)


def _reorder_sessions(answers: SessionAnswers, order: np.ndarray) -> SessionAnswers:
    """The same answers with sessions renumbered so that new session k is old session order[k]."""
    first = np.cumsum(answers.size) - answers.size
    size = answers.size[order]
    new_first = np.cumsum(size) - size
    question = np.arange(size.sum()) + np.repeat(first[order] - new_first, size)
    return _select_questions(answers, question, size, np.repeat(np.arange(order.size), size))


def _select_questions(
    answers: SessionAnswers, question: np.ndarray, size: np.ndarray, session: np.ndarray
) -> SessionAnswers:
    return SessionAnswers(
        size=size,
        session=session,
        item=answers.item[question],
        correct=answers.correct[question],
        time_tenths=answers.time_tenths[question],
        hints=answers.hints[question],
        alternative_key=answers.alternative_key[question],
        theta=answers.theta[question],
        p_correct=answers.p_correct[question],
    )


def _concatenate(weeks: list[WeekSessions]) -> WeekSessions:
    """Join the weeks' sessions; session indices are shifted to stay global."""
    sessions_before = np.cumsum([0] + [len(w[0]) for w in weeks])
    size = np.concatenate([w[4].size for w in weeks])
    answers = SessionAnswers(
        size=size,
        session=np.concatenate(
            [w[4].session + shift for w, shift in zip(weeks, sessions_before, strict=False)]
        ),
        **{
            name: np.concatenate([getattr(w[4], name) for w in weeks])
            for name in ("item", "correct", "time_tenths", "hints", "alternative_key", "theta", "p_correct")
        },
    )
    return (
        np.concatenate([w[0] for w in weeks]),
        np.concatenate([w[1] for w in weeks]).astype(np.int64),
        np.concatenate([w[2] for w in weeks]),
        np.concatenate([w[3] for w in weeks]),
        answers,
    )
