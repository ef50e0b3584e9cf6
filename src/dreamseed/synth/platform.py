"""`generate_platform`: the whole synthetic platform as frames, with its ground truth."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from dreamseed import __version__
from dreamseed.synth.bad_rows import plan_bad_rows
from dreamseed.synth.config import SynthConfig
from dreamseed.synth.goals import Goals, student_goals
from dreamseed.synth.items import ItemBank, item_bank, questions_frame, truth_items_frame
from dreamseed.synth.simulate import Progress, SimulatedActivity, simulate_activity
from dreamseed.synth.students import student_population
from dreamseed.synth.truth import goals_frame, theta_weekly_frame, truth_students_frame

ITEMS_STREAM, STUDENTS_STREAM, GOALS_STREAM, IDS_STREAM = 1, 2, 4, 5


@dataclasses.dataclass(frozen=True)
class SynthPlatform:
    """A generated platform. What `write_platform` writes, as frames.

    - `exam_results`: one row per exam session in file order: line_no (1-based line in
      exam_results.jsonl), session_id, user_id, exam_id, status, score_raw (number correct),
      n_questions, created_at, updated_at (UTC timestamps).
    - `exam_questions`: one row per question object: session_row (row of `exam_results`),
      position (0-based in the session), question_id (int), topic_id, is_correct,
      correctness_key ("is_correct" or "correct": the key the JSON uses), time_spent_sec,
      used_hints, and the truth behind it: theta (true θ) and p_correct (3PL probability).
      Values are the clean ones; `bad_rows` says which were corrupted in the file.
    - `questions`, `goals`: questions.csv and goals.csv.
    - `truth_items`, `truth_students`, `truth_theta_weekly`, `bad_rows`, `meta`: the truth/ files.
    """

    config: SynthConfig
    exam_results: pd.DataFrame
    exam_questions: pd.DataFrame
    questions: pd.DataFrame
    goals: pd.DataFrame
    truth_items: pd.DataFrame
    truth_students: pd.DataFrame
    truth_theta_weekly: pd.DataFrame
    bad_rows: pd.DataFrame
    meta: Mapping[str, Any]


def generate_platform(config: SynthConfig, progress: Progress | None = None) -> SynthPlatform:
    """Generate the platform for `config`; deterministic in (seed, end_date, sizes, model)."""
    bank = item_bank(config, np.random.default_rng([config.seed, ITEMS_STREAM]))
    students = student_population(config, bank, np.random.default_rng([config.seed, STUDENTS_STREAM]))
    activity = simulate_activity(config, bank, students, progress)
    goals = student_goals(
        config, students, activity.stop_day, np.random.default_rng([config.seed, GOALS_STREAM])
    )
    ids_rng = np.random.default_rng([config.seed, IDS_STREAM])
    session_ids = _session_ids(activity.user.size, ids_rng)
    bad_rows, line_no = plan_bad_rows(config.bad_rows, activity.answers.size, session_ids, ids_rng)
    user_ids = students.user_ids()
    truth_students = truth_students_frame(config, students, activity, goals, bank, user_ids)
    return SynthPlatform(
        config=config,
        exam_results=_exam_results_frame(activity, session_ids, user_ids, line_no),
        exam_questions=_exam_questions_frame(activity, bank),
        questions=questions_frame(bank),
        goals=goals_frame(config, goals, bank, user_ids),
        truth_items=truth_items_frame(bank),
        truth_students=truth_students,
        truth_theta_weekly=theta_weekly_frame(config, students, activity.stop_day, user_ids),
        bad_rows=bad_rows,
        meta=_meta(config, bank, activity, goals, truth_students),
    )


def _session_ids(count: int, rng: np.random.Generator) -> np.ndarray:
    """Random UUID-4-shaped session ids (object array of str), deterministic in the stream."""
    words = rng.integers(0, 2**63, size=(count, 2), dtype=np.int64).tolist()
    hexes = [f"{hi:016x}{lo:016x}" for hi, lo in words]
    return np.array([f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}" for h in hexes], dtype=object)


def _exam_results_frame(
    activity: SimulatedActivity, session_ids: np.ndarray, user_ids: np.ndarray, line_no: np.ndarray
) -> pd.DataFrame:
    answers = activity.answers
    return pd.DataFrame(
        {
            "line_no": line_no,
            "session_id": session_ids,
            "user_id": user_ids[activity.user],
            "exam_id": activity.exam_id,
            "status": "completed",
            "score_raw": np.bincount(answers.session, answers.correct, minlength=answers.size.size).astype(
                np.int64
            ),
            "n_questions": answers.size,
            "created_at": pd.to_datetime(activity.created, unit="s", utc=True),
            "updated_at": pd.to_datetime(activity.updated, unit="s", utc=True),
        }
    )


def _exam_questions_frame(activity: SimulatedActivity, bank: ItemBank) -> pd.DataFrame:
    answers = activity.answers
    first = np.cumsum(answers.size) - answers.size
    return pd.DataFrame(
        {
            "session_row": answers.session,
            "position": np.arange(answers.item.size) - np.repeat(first, answers.size),
            "question_id": bank.item_id[answers.item],
            "topic_id": pd.Categorical.from_codes(
                bank.topic[answers.item], categories=list(bank.topic_names)
            ),
            "is_correct": answers.correct,
            "correctness_key": pd.Categorical.from_codes(
                answers.alternative_key.astype(np.int8), categories=["is_correct", "correct"]
            ),
            "time_spent_sec": answers.time_tenths / 10.0,
            "used_hints": answers.hints,
            "theta": answers.theta,
            "p_correct": answers.p_correct,
        }
    )


def _meta(
    config: SynthConfig,
    bank: ItemBank,
    activity: SimulatedActivity,
    goals: Goals,
    truth_students: pd.DataFrame,
) -> dict[str, Any]:
    """`truth/meta.json`: seed, period, counts, every parameter used, and how to read the truth."""
    churned = truth_students["churn_date"] != ""
    return {
        "generator": "dreamseed.synth",
        "version": __version__,
        "seed": config.seed,
        "start_date": config.start_date.isoformat(),
        "end_date": config.end_date.isoformat(),
        "weeks": config.weeks,
        "counts": {
            "students": config.students,
            "topics": config.topics,
            "items": int(bank.item_id.size),
            "anchor_items": int(bank.anchor.sum()),
            "sessions": int(activity.user.size),
            "questions": int(activity.answers.item.size),
            "bad_rows": config.bad_rows,
            "churned": int(churned.sum()),
            "disengaging_at_end": int(((truth_students["disengage_date"] != "") & ~churned).sum()),
            "goals": int(goals.has_goal.sum()),
            "goals_with_outcome": int(goals.known.sum()),
            "goals_reached": int((goals.known & goals.reached).sum()),
        },
        "parameters": config.as_dict(),
        "notes": {
            "theta": "θ(t) = theta0 + growth_per_week · max(0, min(t, churn) − start) / 7 days",
            "theta_weekly": "θ at 00:00 UTC of each ISO Monday (week_start), from the student's first week",
            "churn_date": "first UTC day with no activity ever after; empty if that is after end_date",
            "disengage_date": "day the student started to fade (fewer sessions) before churning",
            "reached_goal": "θ at the end of target_date ≥ target_level; empty if no date or after end_date",
            "days": "UTC calendar days; study times are Korean (KST = UTC+9)",
        },
    }
