"""refresh-console: rebuild the console's precomputed tables as of --date (default: yesterday).

Reads what the other jobs wrote (weekly_kpi, the θ history, goals, reports, item parameters, the
quarantine) and, for infit/outfit, the calibration window of attempts (MIRT_LOOKBACK_DAYS), in four
set-based INSERT … SELECT statements in one transaction: console_student, console_cohort (the last
12 weeks), console_item, console_quarantine. The console's pages read only these tables (and
indexed per-student lookups), never the answers. Runs last in the daily chain.
"""

from __future__ import annotations

from dreamseed.runtime.command import main
from dreamseed.runtime.runner import Job, JobContext, JobResult, yesterday
from dreamseed.storage import console_refresh


def run(context: JobContext) -> JobResult:
    settings, log = context.settings, context.log
    parameters = console_refresh.refresh_parameters(
        context.run_date, settings.mirt_version, settings.mirt_lookback_days
    )
    log.info(
        f"Refreshing console tables as of {context.run_date} (week {parameters['week']}); "
        f"dry_run={context.dry_run}"
    )
    with context.engine.begin() as connection:
        if context.dry_run:
            counts = console_refresh.row_counts(connection, parameters)
            log.info(f"[DRY_RUN] Would write {_shown(counts)}")
        else:
            counts = console_refresh.rebuild_tables(connection, parameters)
            log.info(f"Wrote {_shown(counts)}")
    students = counts.get("console_student", 0)
    return JobResult(
        students,
        0,
        metrics={f"{table}_rows": float(n) for table, n in counts.items()},
        summary=f"processed={students}, failed=0, items={counts.get('console_item', 0)}",
    )


def _shown(counts: dict[str, int]) -> str:
    return ", ".join(f"{table} {n:,} rows" for table, n in counts.items())


JOB = Job(
    name="refresh-console",
    description=(
        "Rebuild the console's precomputed tables (students with their at-risk reasons, cohort KPI "
        "distributions by week, org and goal, the item bank with fit and drift, quarantine counts) as "
        "of --date (default: yesterday), set-based, in one transaction."
    ),
    run=run,
    default_date=yesterday,
)

if __name__ == "__main__":
    main(JOB)
