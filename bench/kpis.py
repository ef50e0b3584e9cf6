"""aggregate-features-daily and compute-daily-kpis at platform scale, next to the original's approach.

    python bench/kpis.py [--students 100000] [--slice 1000]

Generates a synthetic platform (8 weeks; 10^5 students give about 1.5 × 10^7 answers), COPYs its
answers straight into attempt_fact, its goals into interest_goal, a weekly θ history (true θ
plus noise) into mirt_ability_history and the true item parameters into mirt_item_params, so P's
growth fit runs (loading is not timed; bench/ingest.py measures ingestion).
Then times, in the same run:
  1. aggregate-features-daily for the last day (8 days of features for every user);
  2. compute-daily-kpis for the last day (every user active in the last 30 days);
  3. the original's approach on a --slice of those users: per user, its own indexed queries
     (attempts, θ history, goal), the KPIs of that one user (same KPI code, same item bank and θ
     slope prior), and a one-row upsert.
Prints seconds, users per second, and how many times faster per user the set-based job is.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time

import numpy as np
import pandas as pd
from bench._support import machine, markdown_table, scratch_database, timed
from sqlalchemy import Engine, text

from dreamseed.kpis import SlopePrior, compute_kpis
from dreamseed.kpis.attempts import ATTEMPT_COLUMNS, LOOKBACK_DAYS
from dreamseed.runtime import kpi_parts
from dreamseed.runtime.kpi_parts import kpi_parameters
from dreamseed.runtime.registry import load_job
from dreamseed.runtime.runner import EXIT_OK, execute, monday
from dreamseed.settings import Settings
from dreamseed.storage import irt_service, kpis
from dreamseed.storage.frames import copy_frame
from dreamseed.synth import SynthConfig, SynthPlatform, generate_platform

END = dt.date(2026, 11, 1)


def load(engine: Engine, platform: SynthPlatform) -> int:
    """attempt_fact, interest_goal and a θ history from the synthetic platform; returns answers loaded."""
    sessions = platform.exam_results
    answers = platform.exam_questions
    row = answers["session_row"].to_numpy()
    users = sessions["user_id"].to_numpy()[row]
    frame = pd.DataFrame(
        {
            "exam_result_id": [f"00000000-0000-4000-8000-{n:012d}" for n in row],
            "question_index": answers["position"].to_numpy() + 1,
            "question_key": None,
            "user_id": users,
            "item_id": answers["question_id"].to_numpy(),
            "correct": answers["is_correct"].to_numpy(),
            "response_time_ms": np.round(answers["time_spent_sec"].to_numpy() * 1000).astype(np.int64),
            "hints": answers["used_hints"].to_numpy(),
            "completed_at": sessions["updated_at"].to_numpy()[row],
            "session_id": sessions["session_id"].to_numpy()[row],
            "topic_id": answers["topic_id"].to_numpy(),
            "exam_id": sessions["exam_id"].to_numpy()[row],
        }
    )
    weekly = platform.truth_theta_weekly
    rng = np.random.default_rng(3)
    history = pd.DataFrame(
        {
            "user_id": weekly["user_id"],
            "run_id": "bench-" + weekly["week_start"].astype(str),
            "theta": weekly["theta"].to_numpy() + rng.normal(0, 0.25, len(weekly)),
            "se": 0.25,
            "fitted_at": pd.to_datetime(weekly["week_start"]).dt.tz_localize("UTC") - pd.Timedelta(seconds=1),
        }
    )
    items = platform.truth_items
    bank = pd.DataFrame(
        {
            "item_id": items["item_id"].astype(str),
            "model": "3PL",
            "params": [json.dumps({"a": a, "b": b, "c": c}) for a, b, c in items[["a", "b", "c"]].to_numpy()],
            "version": "v1",
        }
    )
    goals = platform.goals.copy()
    goals["target_date"] = goals["target_date"].where(goals["target_date"].astype(str) != "", None)
    with engine.begin() as connection:
        copy_frame(connection, "attempt_fact", frame)
        copy_frame(connection, "mirt_ability_history", history)
        copy_frame(connection, "mirt_item_params", bank)
        copy_frame(
            connection,
            "interest_goal",
            goals[["user_id", "topic_id", "target_level", "priority", "target_date"]],
        )
    # A steady-state database, as autovacuum keeps it: visibility map and hint bits set, statistics fresh.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    return len(frame)


def original_approach(engine: Engine, settings: Settings, users: list[str], prior: SlopePrior) -> None:
    """One user at a time, as the original compute-daily-kpis did: that user's attempts (a plain indexed
    SELECT, as the original's load_attempts; from attempt_fact, not the slower attempt view), θ history
    and goal by indexed queries, the KPIs of that one user, a one-row upsert (the same KPI code as ours)."""
    parameters = kpi_parameters(settings)
    first = END - dt.timedelta(days=LOOKBACK_DAYS - 1)
    with engine.connect() as connection:
        item_bank = irt_service.read_item_bank(connection, settings.mirt_version)
    for user in users:
        with engine.begin() as connection:
            attempts = pd.DataFrame(
                connection.execute(
                    text(
                        "SELECT user_id, item_id, topic_id, correct, response_time_ms, hints > 0 AS hint_used, "
                        "completed_at, session_id FROM attempt_fact WHERE user_id = :u "
                        "AND completed_at >= :start AND completed_at < :end ORDER BY completed_at"
                    ),
                    {"u": user, "start": first, "end": END + dt.timedelta(days=1)},
                ).all(),
                columns=list(ATTEMPT_COLUMNS),
            )
            rows = connection.execute(
                text("SELECT user_id, fitted_at, theta, se FROM mirt_ability_history WHERE user_id = :u"),
                {"u": user},
            ).all()
            history = pd.DataFrame(rows, columns=["user_id", "fitted_at", "theta", "se"])
            goal = connection.execute(
                text("SELECT user_id, target_level, target_date FROM interest_goal WHERE user_id = :u"),
                {"u": user},
            ).all()
            values = compute_kpis(
                users=[user],
                attempts=attempts,
                as_of=END,
                theta_history=history,
                goals=pd.DataFrame(goal, columns=["user_id", "target_level", "target_date"]),
                parameters=parameters,
                item_bank=item_bank,
                slope_prior=prior,
            )
            connection.execute(
                text(
                    "INSERT INTO weekly_kpi (user_id, week_start, kpis) VALUES (:u, :w, CAST(:k AS jsonb)) "
                    "ON CONFLICT (user_id, week_start) DO UPDATE SET kpis = weekly_kpi.kpis || EXCLUDED.kpis"
                ),
                {"u": user, "w": monday(END), "k": json.dumps(kpis.kpi_documents(values).iloc[0])},
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--slice", type=int, default=1000, help="users for the original's per-user approach")
    args = parser.parse_args()
    started = time.perf_counter()
    platform = generate_platform(SynthConfig(students=args.students, weeks=8, seed=11, end_date=END))
    seconds: dict[str, float] = {}
    with scratch_database() as engine:
        answers = load(engine, platform)
        print(f"generated and loaded {answers:,} answers in {time.perf_counter() - started:.0f}s", flush=True)
        settings = Settings(log_level="WARNING")
        with timed(seconds, "features"):
            assert execute(load_job("aggregate-features-daily"), settings, engine, run_date=END) == EXIT_OK
        with timed(seconds, "kpis"):
            assert execute(load_job("compute-daily-kpis"), settings, engine, run_date=END) == EXIT_OK
        with engine.connect() as connection:
            users = (
                connection.execute(
                    text("SELECT user_id FROM weekly_kpi WHERE week_start = :w ORDER BY md5(user_id)"),
                    {"w": monday(END)},
                )
                .scalars()
                .all()
            )
            feature_rows = connection.execute(text("SELECT count(*) FROM features_topic_daily")).scalar_one()
        sample = list(users[: args.slice])
        with engine.connect() as connection:  # the prior the job estimated (not timed)
            bank = irt_service.read_item_bank(connection, settings.mirt_version)
            prior = kpi_parts.read_slope_prior(connection, settings, END, bank)
        with timed(seconds, "original"):
            original_approach(engine, settings, sample, prior)
    per_user = seconds["original"] / len(sample)
    ours = seconds["kpis"] / len(users)
    rows = [
        [
            "aggregate-features-daily (8 days, every user)",
            f"{seconds['features']:.1f}",
            f"{feature_rows:,} rows",
            "",
            "",
        ],
        [
            "compute-daily-kpis (set-based, every active user)",
            f"{seconds['kpis']:.1f}",
            f"{len(users):,} users",
            f"{ours * 1000:.2f}",
            "1",
        ],
        [
            f"original approach: queries per user ({len(sample):,}-user slice)",
            f"{seconds['original']:.1f}",
            f"{len(sample):,} users",
            f"{per_user * 1000:.2f}",
            f"{per_user / ours:.0f}×",
        ],
    ]
    print(f"{answers:,} answers, {args.students:,} students, as of {END}; machine: {machine()}")
    print(markdown_table(["what", "seconds", "size", "ms per user", "slower than ours (per user)"], rows))


if __name__ == "__main__":
    main()
