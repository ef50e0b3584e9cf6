"""detect-inactivity: users who stopped coming, with P and S recomputed as of the run date.

A user is inactive on --date D (default: yesterday) when their last activity (exam session or
platform session, by user_id) is on a UTC day at least --threshold days (INACTIVITY_THRESHOLD_DAYS,
7) before D, and within the 56 days S looks at. One set-based query finds them; P and S come from
the vectorised KPI library (and the learned churn model when one is active and beat S_v1); they are
JSON-merged, with inactive_since and days_inactive, into weekly_kpi for the ISO week of D (I_t, E_t,
R_t, A_t and other keys stay). Each inactivity episode is recorded in user_inactivity: opened the
first time (its inactive_since is kept by later runs) and closed when the user comes back.
"""

from __future__ import annotations

from datetime import date

import click
import pandas as pd
from sqlalchemy import Connection

from dreamseed.kpis.attempts import LOOKBACK_DAYS
from dreamseed.runtime.command import main
from dreamseed.runtime.kpi_parts import kpis_in_parts
from dreamseed.runtime.runner import Job, JobContext, JobResult, monday, yesterday
from dreamseed.storage import inactivity, kpis

WINDOW_DAYS = LOOKBACK_DAYS
"""Users last active more than this many days ago are gone, not inactive (S has no data on them)."""
MERGED_KPIS = ("P", "P_static", "P_trend", "P_method", "P_target", "S", "S_v1", "S_band")
MERGED_EXTRAS = ("S_model", "S_source", "days_since_last", "sessions_56d", "mean_gap_days")


def inactivity_rows(
    inactive: pd.DataFrame, stored: pd.DataFrame, threshold_days: int, as_of: date
) -> pd.DataFrame:
    """Per inactive user (index user_id): last_seen_at, inactive_since, days_inactive, threshold_days.

    ``inactive``: user_id, last_seen_at (UTC). inactive_since = the stored episode's value when this
    gap was recorded before (same user and last_seen_at), else the UTC day of last_seen_at +
    threshold_days (the first day the rule held). days_inactive = as_of − that UTC day.
    """
    last_day = inactive["last_seen_at"].dt.tz_convert("UTC").dt.date
    first_inactive = last_day + pd.Timedelta(days=threshold_days).to_pytimedelta()
    frame = pd.DataFrame(
        {
            "user_id": inactive["user_id"].to_numpy(),
            "last_seen_at": inactive["last_seen_at"].to_numpy(),
            "inactive_since": first_inactive.to_numpy(),
            "days_inactive": [(as_of - day).days for day in last_day],
            "threshold_days": threshold_days,
        }
    )
    if not stored.empty:
        known = frame.merge(stored, on=["user_id", "last_seen_at"], how="left", suffixes=("", "_stored"))
        frame["inactive_since"] = (
            known["inactive_since_stored"]
            .where(known["inactive_since_stored"].notna(), known["inactive_since"])
            .to_numpy()
        )
    frame["last_seen_at"] = pd.to_datetime(frame["last_seen_at"], utc=True)
    return frame.set_index("user_id")


def _p_and_s(
    connection: Connection, context: JobContext, users: list[str], failures: list[str]
) -> pd.DataFrame:
    """P and S (and their companions) of `users` as of the run date; failing users are left out."""
    values = pd.concat([values for values, _trend in kpis_in_parts(connection, context, users, failures)])
    return values[[c for c in (*MERGED_KPIS, *MERGED_EXTRAS) if c in values.columns]]


def inactivity_documents(values: pd.DataFrame, rows: pd.DataFrame, as_of: date) -> pd.Series:
    """The JSON merged into weekly_kpi per inactive user: P, S and companions, inactivity facts."""
    merged = values[[c for c in (*MERGED_KPIS, *MERGED_EXTRAS) if c in values.columns]].join(
        rows[["inactive_since", "days_inactive", "last_seen_at", "threshold_days"]], how="inner"
    )
    merged = merged.rename(columns={"threshold_days": "inactivity_threshold_days"})
    merged["inactive"] = True
    merged["inactive_since"] = [d.isoformat() for d in merged["inactive_since"]]
    merged["last_seen_at"] = [t.isoformat() for t in merged["last_seen_at"]]
    return kpis.kpi_documents(merged, {"inactivity_checked_on": as_of.isoformat()})


def returned_documents(returned: pd.DataFrame) -> pd.Series:
    """The JSON merged for users who came back: the week's row no longer says they are inactive."""
    return pd.Series(
        {
            user: kpis.kpi_documents(
                pd.DataFrame(
                    {"inactive": [False], "days_inactive": [None], "returned_at": [at.isoformat()]},
                    index=[user],
                )
            ).iloc[0]
            for user, at in zip(returned["user_id"], returned["returned_at"], strict=True)
        },
        dtype=object,
    )


def run(context: JobContext) -> JobResult:
    settings, log, as_of = context.settings, context.log, context.run_date
    threshold = int(context.options.get("threshold") or settings.inactivity_threshold_days)
    week_start = monday(as_of)
    failures: list[str] = []
    with context.engine.begin() as connection:
        inactive = inactivity.read_inactive_users(connection, as_of, threshold, WINDOW_DAYS, context.shard)
        returned = inactivity.read_returned_users(connection, as_of, context.shard)
        if inactive.empty:
            log.info(f"No inactive users found (threshold={threshold} days)")
        else:
            log.info(
                f"Found {len(inactive)} inactive users (threshold={threshold} days); dry_run={context.dry_run}"
            )
        users = inactive["user_id"].tolist()
        rows = inactivity_rows(inactive, inactivity.read_episodes(connection, users), threshold, as_of)
        values = _p_and_s(connection, context, users, failures) if users else pd.DataFrame()
        documents = inactivity_documents(values, rows, as_of) if not values.empty else pd.Series(dtype=object)
        if context.dry_run:
            _log_dry_run(context, rows, values, returned, week_start)
        else:
            _write(connection, context, rows, documents, returned, week_start)
    summary = f"processed={len(documents)}, failed={len(failures)}, threshold={threshold} days"
    return JobResult(len(documents), len(failures), metrics=_metrics(rows, values, returned), summary=summary)


def _write(
    connection: Connection,
    context: JobContext,
    rows: pd.DataFrame,
    documents: pd.Series,
    returned: pd.DataFrame,
    week_start: date,
) -> None:
    opened = inactivity.upsert_episodes(connection, context.run_date, rows.reset_index())
    closed = inactivity.close_episodes(connection, returned)
    back_now = returned[~returned["user_id"].isin(documents.index)]  # not inactive again since
    changed = kpis.merge_weekly_kpis(
        connection, week_start, pd.concat([documents, returned_documents(back_now)])
    )
    context.log.info(
        f"user_inactivity: {opened} episodes opened or extended, {closed} closed (users back); "
        f"weekly_kpi (week_start={week_start}): {changed} rows inserted or changed"
    )


def _log_dry_run(
    context: JobContext, rows: pd.DataFrame, values: pd.DataFrame, returned: pd.DataFrame, week_start: date
) -> None:
    sample = rows.join(
        values[["P", "S"]] if not values.empty else pd.DataFrame(columns=["P", "S"]), how="left"
    )
    context.log.info(
        f"[DRY_RUN] Would merge P and S of {len(values)} inactive users into weekly_kpi "
        f"(week_start={week_start}), record {len(rows)} inactivity episodes and close {len(returned)} "
        f"(users back); sample:\n{sample.head(5).to_string()}"
    )


def _metrics(rows: pd.DataFrame, values: pd.DataFrame, returned: pd.DataFrame) -> dict[str, float]:
    s = values["S"].astype(float) if "S" in values else pd.Series(dtype=float)
    return {
        "inactive_users": float(len(rows)),
        "inactive_users_returned": float(len(returned)),
        "inactive_days_mean": float(rows["days_inactive"].mean()) if len(rows) else 0.0,
        "inactive_high_churn_risk_users": float((s >= 0.7).sum()),
        "inactive_s_mean": float(s.mean()) if s.notna().any() else 0.0,
        "inactive_p_mean": float(values["P"].astype(float).mean())
        if "P" in values and values["P"].notna().any()
        else 0.0,
    }


JOB = Job(
    name="detect-inactivity",
    description=(
        "Find users inactive for at least --threshold days (INACTIVITY_THRESHOLD_DAYS, 7) as of --date "
        "(default: yesterday) who were active within the 56 days before, recompute their P and S as of "
        "that date and JSON-merge them (with inactive_since, days_inactive) into weekly_kpi for its ISO "
        "week; record each inactivity episode in user_inactivity and close it when the user comes back."
    ),
    run=run,
    default_date=yesterday,
    options=(
        click.Option(
            ["--threshold", "threshold"],
            type=click.IntRange(min=1),
            default=None,
            help="Days without activity after which a user is inactive [default: INACTIVITY_THRESHOLD_DAYS].",
        ),
    ),
)

if __name__ == "__main__":
    main(JOB)
