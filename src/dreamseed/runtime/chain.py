"""The daily chain: which jobs run for a date, in dependency order, stopping at the first failure.

Order: mirt-calibrate (θ and items as of the day) → aggregate-features-daily (uses θ) →
compute-daily-kpis (uses θ history) → detect-inactivity (merges P and S into the week's KPIs) →
generate-weekly-report, only when the date is the last day of an ISO week (the chain that runs on
Monday morning processes Sunday and then reports on the week that just ended).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Engine

from dreamseed.runtime.registry import available_jobs, load_job
from dreamseed.runtime.runner import EXIT_OK, execute
from dreamseed.settings import Settings
from dreamseed.storage import job_runs

WEEKLY_JOBS = frozenset({"generate-weekly-report"})


def jobs_for_date(day: date, selected: Iterable[str] | None = None) -> list[str]:
    """The chain's jobs for a date, in order (weekly jobs only on Sundays)."""
    chosen = set(selected) if selected is not None else None
    return [
        name
        for name in available_jobs()
        if (chosen is None or name in chosen) and (name not in WEEKLY_JOBS or day.weekday() == 6)
    ]


@dataclass(frozen=True)
class StepOutcome:
    day: date
    job: str
    exit_code: int | None  # None: skipped (already succeeded, or an upstream job failed)
    note: str = ""


def run_chain(
    settings: Settings,
    engine: Engine,
    day: date,
    selected: Iterable[str] | None = None,
    *,
    dry_run: bool = False,
    skip_succeeded: bool = False,
    on_step: Callable[[StepOutcome], None] | None = None,
) -> list[StepOutcome]:
    """Run the chain for one date; after a failure the remaining jobs are skipped, with the reason."""
    outcomes: list[StepOutcome] = []
    failed: str | None = None
    for name in jobs_for_date(day, selected):
        if failed is not None:
            outcome = StepOutcome(day, name, None, f"skipped: upstream job {failed} failed")
        elif skip_succeeded and day in job_runs.succeeded_dates(engine, name):
            outcome = StepOutcome(day, name, None, "skipped: already succeeded for this date")
        else:
            code = execute(load_job(name), settings, engine, run_date=day, dry_run=dry_run)
            outcome = StepOutcome(day, name, code)
            if code != EXIT_OK:
                failed = name
        outcomes.append(outcome)
        if on_step is not None:
            on_step(outcome)
    return outcomes


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
