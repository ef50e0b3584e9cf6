"""Build `ReportData` from plain dicts and lists (what a job gets from data frames or JSON).

Accepted value forms: dates as ``datetime.date``/``datetime``/pandas ``Timestamp``/ISO strings;
numbers as Python or numpy scalars, with ``None``, NaN and pandas ``NA`` read as missing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from typing import Any

from dreamseed.reports.data import (
    DAYS_PER_WEEK,
    KPI_NAMES,
    LANGS,
    Goal,
    Kpis,
    ReportData,
    ThetaPoint,
    TopicRow,
)


def optional_float(value: Any) -> float | None:
    """``value`` as a finite float, or ``None`` when it is missing, NaN, infinite or not a number."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def count_from(value: Any) -> int:
    """``value`` as a non-negative int (missing or invalid → 0)."""
    number = optional_float(value)
    return max(0, int(number)) if number is not None else 0


def date_from(value: Any) -> dt.date:
    """``value`` (date, datetime, Timestamp, numpy datetime64 or ISO string) as a date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def optional_date(value: Any) -> dt.date | None:
    """``value`` as a date, or ``None`` when missing (None, NaT, empty string)."""
    if value is None or value == "" or str(value) in ("NaT", "nan", "None"):
        return None
    return date_from(value)


def datetime_from(value: Any) -> dt.datetime:
    """``value`` (datetime or ISO string) as a datetime; a bare date means midnight."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    return dt.datetime.fromisoformat(str(value))


def kpis_from(record: Mapping[str, Any] | None) -> Kpis:
    """KPIs from a mapping with keys I_t, E_t, R_t, A_t, P, S (missing keys → None)."""
    record = record or {}
    return Kpis(**{name: optional_float(record.get(name)) for name in KPI_NAMES})


def theta_points_from(rows: Iterable[Mapping[str, Any]] | None) -> tuple[ThetaPoint, ...]:
    """θ history points from rows with ``date``, ``theta``, ``se``; rows without a θ are dropped."""
    points = []
    for row in rows or ():
        theta = optional_float(row.get("theta"))
        if theta is not None and optional_date(row.get("date")) is not None:
            points.append(ThetaPoint(date_from(row["date"]), theta, optional_float(row.get("se"))))
    return tuple(sorted(points, key=lambda point: point.date))


def topics_from(rows: Iterable[Mapping[str, Any]] | None) -> tuple[TopicRow, ...]:
    """Topic rows from mappings with topic_id, attempts, correct, theta, se and optional name."""
    return tuple(
        TopicRow(
            topic_id=str(row.get("topic_id", "")),
            attempts=count_from(row.get("attempts")),
            correct=count_from(row.get("correct")),
            theta=optional_float(row.get("theta")),
            se=optional_float(row.get("se")),
            name=None if row.get("name") is None else str(row.get("name")),
        )
        for row in rows or ()
    )


def daily_attempts_from(value: Any, week_start: dt.date) -> tuple[int, ...]:
    """Attempts Monday..Sunday from 7 counts or a mapping date → count (days outside the week ignored)."""
    if isinstance(value, Mapping):
        counts = [0] * DAYS_PER_WEEK
        for day, count in value.items():
            offset = (date_from(day) - week_start).days
            if 0 <= offset < DAYS_PER_WEEK:
                counts[offset] += count_from(count)
        return tuple(counts)
    values = [count_from(count) for count in (value if value is not None else ())][:DAYS_PER_WEEK]
    return tuple(values + [0] * (DAYS_PER_WEEK - len(values)))


def goal_from(record: Mapping[str, Any] | None) -> Goal | None:
    """A goal from topic, target_level, target_date and probability (or P); ``None`` stays ``None``."""
    if not record:
        return None
    probability = record.get("probability", record.get("P"))
    return Goal(
        topic=None if record.get("topic") is None else str(record.get("topic")),
        target_level=optional_float(record.get("target_level")),
        target_date=optional_date(record.get("target_date")),
        probability=optional_float(probability),
    )


def floats_from(values: Any) -> tuple[float, ...]:
    """Finite floats from a list or array (missing and non-finite values dropped)."""
    numbers = (optional_float(value) for value in (values if values is not None else ()))
    return tuple(number for number in numbers if number is not None)


def report_data_from_dict(record: Mapping[str, Any]) -> ReportData:
    """A `ReportData` from plain dicts/lists with the same field names (see `ReportData`).

    Required keys: ``user_id``, ``week_start``, ``generated_at``. ``goal`` may also carry its
    probability as ``P``; ``daily_attempts`` may be 7 counts or a mapping date → count.
    """
    week_start = date_from(record["week_start"])
    lang = str(record.get("lang") or "ko")
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    previous = record.get("previous_kpis")
    days_inactive = optional_float(record.get("days_inactive"))
    return ReportData(
        user_id=str(record["user_id"]),
        week_start=week_start,
        week_end=optional_date(record.get("week_end")),
        generated_at=datetime_from(record["generated_at"]),
        lang=lang,
        display_name=None if record.get("display_name") is None else str(record["display_name"]),
        kpis=kpis_from(record.get("kpis")),
        previous_kpis=None if previous is None else kpis_from(previous),
        theta_history=theta_points_from(record.get("theta_history")),
        theta=optional_float(record.get("theta")),
        theta_se=optional_float(record.get("theta_se")),
        item_difficulties=floats_from(record.get("item_difficulties")),
        seen_item_difficulties=floats_from(record.get("seen_item_difficulties")),
        topics=topics_from(record.get("topics")),
        daily_attempts=daily_attempts_from(record.get("daily_attempts"), week_start),
        goal=goal_from(record.get("goal")),
        inactive_since=optional_date(record.get("inactive_since")),
        days_inactive=None if days_inactive is None else int(days_inactive),
    )
