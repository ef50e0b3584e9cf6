"""compute-daily-kpis: the six weekly KPIs of every recently active user, as of the job date.

Week = the ISO week of --date (default: yesterday). Users = those with an attempt in the last
KPI_LOOKBACK_DAYS days. One bulk read of what every KPI needs, the vectorised KPI library, then
one JSON-merge upsert of weekly_kpi and one upsert of ability_estimates, in one transaction; on a
platform whose 56-day window holds more than KPI_BATCH_ANSWERS answers, part of the users at a time
(``kpis_in_parts``) so that memory stays bounded.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from dreamseed.runtime.command import main
from dreamseed.runtime.kpi_parts import kpis_in_parts
from dreamseed.runtime.phases import Phases
from dreamseed.runtime.runner import Job, JobContext, JobResult, monday
from dreamseed.storage import activity, kpis


def run(context: JobContext) -> JobResult:
    settings, log, as_of = context.settings, context.log, context.run_date
    week_start = monday(as_of)
    phases = Phases()
    with context.engine.begin() as connection, phases.time("read"):
        users = activity.read_active_users(
            connection, as_of - timedelta(days=settings.kpi_lookback_days - 1), as_of, context.shard
        )
        if not users:
            log.info(f"No recent users found (lookback={settings.kpi_lookback_days} days); exiting.")
            return JobResult(0, summary=f"processed_users=0, failed_users=0, week={week_start}")
        log.info(f"Computing KPIs for {len(users)} users; week_start={week_start}, dry_run={context.dry_run}")
    failures: list[str] = []
    parts: list[pd.DataFrame] = []
    changed = estimates = 0
    with context.engine.begin() as connection:
        for values, trend in kpis_in_parts(connection, context, users, failures, phases):
            parts.append(values)
            if context.dry_run:
                estimates += int((trend["n_points"] > 0).sum())
                continue
            with phases.time("write"):
                documents = kpis.kpi_documents(values, {"as_of": as_of.isoformat()})
                changed += kpis.merge_weekly_kpis(connection, week_start, documents)
                estimates += kpis.upsert_ability_estimates(connection, as_of, trend)
    values = pd.concat(parts)  # users is not empty, so neither is parts
    if context.dry_run:
        log.info(
            f"[DRY_RUN] Would merge {len(values)} weekly_kpi rows (week_start={week_start}) and "
            f"{estimates} ability_estimates rows; sample:\n{values.head(5).to_string()}"
        )
    else:
        log.info(f"weekly_kpi: {changed} rows inserted or changed; ability_estimates: {estimates}")
    log.info(f"Phases: {phases.line()}")
    summary = f"processed_users={len(values)}, failed_users={len(failures)}, week={week_start}"
    return JobResult(
        len(values), len(failures), metrics={**_metrics(values), **phases.metrics()}, summary=summary
    )


def _metrics(values: pd.DataFrame) -> dict[str, float]:
    figures = {"kpi_users": float(len(values))}
    for column in ("I_t", "E_t", "R_t", "A_t", "P", "S"):
        series = values[column].astype(float)
        figures[f"kpi_{column.lower()}_mean"] = float(series.mean()) if series.notna().any() else 0.0
        figures[f"kpi_{column.lower()}_missing_ratio"] = float(series.isna().mean())
    figures["kpi_high_churn_risk_users"] = float((values["S"].astype(float) >= 0.7).sum())
    return figures


JOB = Job(
    name="compute-daily-kpis",
    description=(
        "Compute the weekly KPIs (I_t, E_t, R_t, A_t, P, S) of every user active in the last "
        "KPI_LOOKBACK_DAYS (30) days, as of --date (default: yesterday), into weekly_kpi for the ISO "
        "week of that date (JSON merge: keys written by other jobs stay) and the θ trend into "
        "ability_estimates."
    ),
    run=run,
)

if __name__ == "__main__":
    main(JOB)
