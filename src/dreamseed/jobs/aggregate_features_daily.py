"""aggregate-features-daily: per (user, topic, UTC day) features for the days up to the anchor date.

Anchor = --date or yesterday; since = anchor − AGG_LOOKBACK_DAYS. One aggregate query gives
attempts, correct, avg_time_ms, rt_median, hints, θ (per topic, else overall, as of each day) and
the real last attempt time; the user's I_t as of each day comes from the KPI library on one bulk
read of attempts and θ history. Written with one upsert in one transaction.
"""

from __future__ import annotations

from datetime import timedelta

from dreamseed.features.improvement import IMPROVEMENT_LOOKBACK_DAYS, daily_improvement
from dreamseed.kpis import KpiParameters
from dreamseed.runtime.command import main
from dreamseed.runtime.phases import Phases
from dreamseed.runtime.runner import Job, JobContext, JobResult, yesterday
from dreamseed.storage import activity, features


def run(context: JobContext) -> JobResult:
    settings, log = context.settings, context.log
    anchor = context.run_date
    since = anchor - timedelta(days=settings.agg_lookback_days)
    phases = Phases()
    with context.engine.begin() as connection:
        with phases.time("aggregate"):
            aggregates = features.daily_topic_aggregates(
                connection, since, anchor, context.shard, settings.agg_include_theta
            )
        if aggregates.empty:
            log.info(
                f"No (user_id, topic_id, date) combinations found (lookback={settings.agg_lookback_days} days); "
                "exiting."
            )
            return JobResult(0)
        log.info(
            f"Aggregating features for {len(aggregates)} (user, topic, date) combinations; "
            f"since={since}, anchor={anchor}, dry_run={context.dry_run}"
        )
        users = sorted(aggregates["user_id"].unique())
        first_day = since - timedelta(days=IMPROVEMENT_LOOKBACK_DAYS)
        with phases.time("improvement"):
            answers = activity.read_answer_days(connection, first_day, anchor, context.shard, users)
            history = activity.read_theta_history(connection, first_day, anchor, context.shard)
            days = sorted(aggregates["date"].unique())
            improvement = daily_improvement(
                answers, history, users, days, KpiParameters(use_theta=settings.metrics_use_irt_theta)
            )
        rows = aggregates.merge(improvement, on=["user_id", "date"], how="left")
        rows["improvement"] = rows["improvement"].astype(float).round(6)
        if context.dry_run:
            log.info(
                f"[DRY_RUN] Would upsert {len(rows)} rows into features_topic_daily; sample:\n"
                f"{rows.head(5).to_string(index=False)}"
            )
            return JobResult(len(rows), summary=_summary(len(rows)))
        with phases.time("write"):
            changed = features.upsert_features(connection, rows)
    log.info(f"Upserted features_topic_daily: {changed} rows changed, {len(rows) - changed} unchanged")
    log.info(f"Phases: {phases.line()}")
    return JobResult(
        len(rows),
        metrics={
            "features_rows": float(len(rows)),
            "features_rows_changed": float(changed),
            "features_users": float(len(users)),
            **phases.metrics(),
        },
        summary=_summary(len(rows)),
    )


def _summary(processed: int) -> str:
    return f"processed={processed}, failed=0"


JOB = Job(
    name="aggregate-features-daily",
    description=(
        "Aggregate daily features per (user, topic, UTC day) into features_topic_daily.\n\n"
        "--date is the anchor day (default: yesterday); days from anchor − AGG_LOOKBACK_DAYS (7) to "
        "the anchor are recomputed: attempts, correct, avg_time_ms, rt_median, hints, theta_estimate/"
        "theta_sd (latest per-topic θ as of that day, else the user's θ), improvement (the user's I_t "
        "as of that day) and last_seen_at (the real last attempt that day)."
    ),
    run=run,
    default_date=yesterday,
)

if __name__ == "__main__":
    main(JOB)
