"""From the week's bulk-read frames to one `ReportData` per user (grouped pandas, no per-user queries).

The frames come from `dreamseed.storage.reports`; everything here is pure (no database or clock):
the generation time and language are passed in.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from dreamseed.reports.data import Goal, Kpis, Lang, ReportData, ThetaPoint, TopicRow

#: The KPIs a report shows, in the order of the week's frame (storage.reports reads them).
KPI_COLUMNS = ("I_t", "E_t", "R_t", "A_t", "P", "S")

DAYS_PER_WEEK = 7


@dataclass(frozen=True)
class WeeklyReportFrames:
    """What the week's reports show, for every covered user (column meanings in storage.reports).

    ``item_difficulties`` is the item bank's b, shape (n_items,), shared by every report.
    """

    week_start: date
    kpis: pd.DataFrame
    theta_history: pd.DataFrame
    topic_days: pd.DataFrame
    item_difficulties: npt.NDArray[np.float64]
    seen_difficulties: pd.DataFrame
    goals: pd.DataFrame
    adaptive_answers: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {"user_id": pd.Series(dtype=str), "answers": pd.Series(dtype="int64")}
        )
    )

    @property
    def users(self) -> list[str]:
        """Users with a weekly_kpi row for the week, sorted."""
        this_week = self.kpis[self.kpis["week_start"] == self.week_start]
        return sorted(this_week["user_id"].unique().tolist())


def missing_is_none(value: Any) -> Any:
    """``value``, or ``None`` for None, NaN, NaT and pandas NA."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def optional_number(value: Any) -> float | None:
    value = missing_is_none(value)
    return None if value is None else float(value)


def rows_by_user(frame: pd.DataFrame, columns: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of ``frame`` (values of ``columns``, NaN → None) grouped by user_id, in frame order
    within each user. One pass over sorted columns, not a pandas group per user."""
    if frame.empty:
        return {}
    ordered = frame.sort_values("user_id", kind="stable")
    users = ordered["user_id"].to_numpy()
    values = [[missing_is_none(v) for v in ordered[column].tolist()] for column in columns]
    rows = list(zip(*values, strict=True))
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    ends = np.r_[starts[1:], len(users)]
    return {str(users[start]): rows[start:end] for start, end in zip(starts, ends, strict=True)}


def kpis_by_user(kpis: pd.DataFrame, week_start: date) -> dict[str, Kpis]:
    """The six KPIs per user for ``week_start`` (missing → None)."""
    week = kpis[kpis["week_start"] == week_start]
    return {
        user: Kpis(*(optional_number(v) for v in row))
        for user, *row in week[["user_id", *KPI_COLUMNS]].itertuples(index=False, name=None)
    }


@dataclass(frozen=True)
class Inactivity:
    since: date | None
    days: int | None


def inactivity_by_user(kpis: pd.DataFrame, week_start: date) -> dict[str, Inactivity]:
    """Users flagged inactive in the week's KPIs (``inactive`` true, or absent with a date)."""
    week = kpis[kpis["week_start"] == week_start]
    flagged = week["inactive"].fillna(-1).astype(int)
    since = week["inactive_since"]
    shown = (flagged == 1) | ((flagged == -1) & since.notna())
    found = {}
    for user, day, days in week.loc[shown, ["user_id", "inactive_since", "days_inactive"]].itertuples(
        index=False, name=None
    ):
        known = missing_is_none(days)
        found[user] = Inactivity(
            date.fromisoformat(day) if missing_is_none(day) else None, None if known is None else int(known)
        )
    return found


def theta_points_by_user(history: pd.DataFrame) -> dict[str, tuple[ThetaPoint, ...]]:
    """θ history points per user, by date."""
    ordered = history.sort_values(["user_id", "date"])
    return {
        user: tuple(ThetaPoint(day, float(theta), se) for day, theta, se in rows if theta is not None)
        for user, rows in rows_by_user(ordered, ["date", "theta", "se"]).items()
    }


def topic_table(topic_days: pd.DataFrame) -> pd.DataFrame:
    """Per (user_id, topic_id): attempts and correct summed over the week, θ and SE of the latest
    day with a θ; sorted by user, most attempts first, then topic."""
    totals = topic_days.groupby(["user_id", "topic_id"], sort=False)[["attempts", "correct"]].sum()
    with_theta = topic_days.dropna(subset=["theta"]).sort_values("date")
    latest = with_theta.drop_duplicates(["user_id", "topic_id"], keep="last").set_index(
        ["user_id", "topic_id"]
    )
    table = totals.join(latest[["theta", "se"]], how="left").reset_index()
    return table.sort_values(["user_id", "attempts", "topic_id"], ascending=[True, False, True])


def topic_rows_by_user(topic_days: pd.DataFrame) -> dict[str, tuple[TopicRow, ...]]:
    columns = ["topic_id", "attempts", "correct", "theta", "se"]
    return {
        user: tuple(TopicRow(topic, int(n), int(k), theta, se) for topic, n, k, theta, se in rows)
        for user, rows in rows_by_user(topic_table(topic_days), columns).items()
    }


def daily_attempts_by_user(topic_days: pd.DataFrame, week_start: date) -> dict[str, tuple[int, ...]]:
    """Attempts on each day Monday..Sunday per user (7 counts)."""
    if topic_days.empty:
        return {}
    offsets = [(day - week_start).days for day in topic_days["date"]]
    counts = (
        topic_days.assign(offset=offsets)
        .groupby(["user_id", "offset"])["attempts"]
        .sum()
        .unstack(fill_value=0)
        .reindex(columns=range(DAYS_PER_WEEK), fill_value=0)
    )
    return {
        str(user): tuple(int(n) for n in row)
        for user, row in zip(counts.index, counts.to_numpy(), strict=True)
    }


def seen_by_user(seen: pd.DataFrame) -> dict[str, tuple[float, ...]]:
    return {
        user: tuple(b for (b,) in rows if b is not None) for user, rows in rows_by_user(seen, ["b"]).items()
    }


def goals_by_user(goals: pd.DataFrame, kpis: pd.DataFrame, week_start: date) -> dict[str, Goal]:
    """Each user's goal (interest_goal), its target θ (else the KPI's P_target) and P."""
    week = kpis[kpis["week_start"] == week_start].set_index("user_id")
    found = {}
    for user, topic, level, target_date in goals[
        ["user_id", "topic_id", "target_level", "target_date"]
    ].itertuples(index=False, name=None):
        row = week.loc[user] if user in week.index else None
        target = optional_number(level)
        if target is None and row is not None:
            target = optional_number(row["P_target"])
        probability = None if row is None else optional_number(row["P"])
        found[user] = Goal(missing_is_none(topic), target, missing_is_none(target_date), probability)
    return found


def report_data_by_user(
    frames: WeeklyReportFrames, generated_at: datetime, lang: Lang
) -> Iterator[ReportData]:
    """One `ReportData` per covered user (``frames.users`` order); missing data shows as N/A."""
    week = frames.week_start
    current = kpis_by_user(frames.kpis, week)
    previous = kpis_by_user(frames.kpis, week - timedelta(days=7))
    inactive = inactivity_by_user(frames.kpis, week)
    history = theta_points_by_user(frames.theta_history)
    topics = topic_rows_by_user(frames.topic_days)
    daily = daily_attempts_by_user(frames.topic_days, week)
    seen = seen_by_user(frames.seen_difficulties)
    goals = goals_by_user(frames.goals, frames.kpis, week)
    adaptive = dict(zip(frames.adaptive_answers["user_id"], frames.adaptive_answers["answers"], strict=True))
    bank = tuple(float(b) for b in frames.item_difficulties)
    no_activity = (0,) * DAYS_PER_WEEK
    for user in frames.users:
        flagged = inactive.get(user)
        yield ReportData(
            user_id=user,
            week_start=week,
            generated_at=generated_at,
            lang=lang,
            kpis=current.get(user, Kpis()),
            previous_kpis=previous.get(user),
            theta_history=history.get(user, ()),
            item_difficulties=bank,
            seen_item_difficulties=seen.get(user, ()),
            topics=topics.get(user, ()),
            daily_attempts=daily.get(user, no_activity),
            goal=goals.get(user),
            inactive_since=flagged.since if flagged else None,
            days_inactive=flagged.days if flagged else None,
            adaptive_answers=int(adaptive.get(user, 0)),
        )
