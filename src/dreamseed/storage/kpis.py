"""Writes of compute-daily-kpis and detect-inactivity: weekly_kpi (JSON merge) and ability_estimates."""

from __future__ import annotations

import json
import math
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from dreamseed.storage.frames import copy_frame, staging_table


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return _json_value(value.item())
    return value


def kpi_documents(frame: pd.DataFrame, extra: dict[str, Any] | None = None) -> pd.Series:
    """One JSON text per user (index user_id) from a KPI frame; NaN becomes null."""
    extra = extra or {}
    names = [str(name) for name in frame.columns]
    columns = [_json_column(frame[name]) for name in frame.columns]
    return pd.Series(
        [
            json.dumps({**dict(zip(names, values, strict=True)), **extra})
            for values in zip(*columns, strict=True)
        ]
        if names
        else [json.dumps(extra)] * len(frame),
        index=frame.index,
        dtype=object,
    )


def _json_column(values: pd.Series) -> list[Any]:
    """A column as plain Python values for json (float columns converted at once; NaN, ±inf -> None)."""
    if pd.api.types.is_float_dtype(values.dtype):
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
        plain = numbers.astype(object)
        plain[~np.isfinite(numbers)] = None
        return list(plain)
    return [_json_value(value) for value in values.tolist()]


def merge_weekly_kpis(connection: Connection, week_start: date, documents: pd.Series) -> int:
    """Merge each user's JSON into weekly_kpi(user_id, week_start): keys written by other jobs stay.

    Rows whose merged JSON equals the stored one are not touched (a re-run changes nothing).
    Returns the number of rows inserted or changed.
    """
    staging_table(connection, "staging_kpis", "(user_id text, kpis text)")
    copy_frame(
        connection, "staging_kpis", pd.DataFrame({"user_id": documents.index, "kpis": documents.to_numpy()})
    )
    result = connection.execute(
        text(
            """
            INSERT INTO weekly_kpi (user_id, week_start, kpis)
            SELECT user_id, :week_start, kpis::jsonb FROM staging_kpis
            ON CONFLICT (user_id, week_start) DO UPDATE
                SET kpis = weekly_kpi.kpis || EXCLUDED.kpis, updated_at = now()
                WHERE weekly_kpi.kpis || EXCLUDED.kpis IS DISTINCT FROM weekly_kpi.kpis
            """
        ),
        {"week_start": week_start},
    )
    return int(result.rowcount or 0)


def upsert_ability_estimates(connection: Connection, as_of: date, trend: pd.DataFrame) -> int:
    """Upsert the θ trend per user (index user_id; mean, sd, slope, slope_se, n_points, method)."""
    rows = trend[trend["n_points"] > 0].reset_index()
    if rows.empty:
        return 0
    rows = rows.rename(columns={"index": "user_id"})
    rows.insert(1, "as_of", as_of)
    staging_table(connection, "staging_ability", "(LIKE ability_estimates INCLUDING DEFAULTS)")
    copy_frame(
        connection,
        "staging_ability",
        rows[["user_id", "as_of", "mean", "sd", "slope", "slope_se", "n_points", "method"]],
    )
    result = connection.execute(
        text(
            """
        INSERT INTO ability_estimates (user_id, as_of, mean, sd, slope, slope_se, n_points, method)
        SELECT user_id, as_of, mean, sd, slope, slope_se, n_points, method FROM staging_ability
        ON CONFLICT (user_id, as_of) DO UPDATE SET
            mean = EXCLUDED.mean, sd = EXCLUDED.sd, slope = EXCLUDED.slope, slope_se = EXCLUDED.slope_se,
            n_points = EXCLUDED.n_points, method = EXCLUDED.method, updated_at = now()
        WHERE (ability_estimates.mean, ability_estimates.sd, ability_estimates.slope, ability_estimates.slope_se,
               ability_estimates.n_points, ability_estimates.method)
              IS DISTINCT FROM (EXCLUDED.mean, EXCLUDED.sd, EXCLUDED.slope, EXCLUDED.slope_se,
               EXCLUDED.n_points, EXCLUDED.method)
        """
        )
    )
    return int(result.rowcount or 0)
