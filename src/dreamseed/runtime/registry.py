"""The batch jobs, in the order the daily chain runs them (each module defines `JOB`)."""

from __future__ import annotations

import importlib

from dreamseed.runtime.runner import Job

JOB_MODULES: dict[str, str] = {
    "mirt-calibrate": "dreamseed.jobs.mirt_calibrate",
    "aggregate-features-daily": "dreamseed.jobs.aggregate_features_daily",
    "compute-daily-kpis": "dreamseed.jobs.compute_daily_kpis",
    "detect-inactivity": "dreamseed.jobs.detect_inactivity",
    "generate-weekly-report": "dreamseed.jobs.generate_weekly_report",
    "refresh-console": "dreamseed.jobs.refresh_console",
}


def available_jobs() -> list[str]:
    """Names of the jobs whose module exists, in chain order."""
    return [name for name, module in JOB_MODULES.items() if importlib.util.find_spec(module) is not None]


def load_job(name: str) -> Job:
    job = importlib.import_module(JOB_MODULES[name]).JOB
    assert isinstance(job, Job)
    return job
