"""The θ history frame (one row per user per calibration run), as flat arrays up to ``as_of``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dreamseed.kpis import _grouped
from dreamseed.kpis._inputs import (
    DAY_NS,
    codes_in,
    day_number,
    float_or_nan,
    require_columns,
    user_index,
    utc_nanoseconds,
)

THETA_HISTORY_COLUMNS = ("user_id", "fitted_at", "theta", "se")
SE_LIMITS = (1e-6, 1e6)
"""Known SEs are clipped into this range so that 1/se² and se² stay finite."""


@dataclass(frozen=True)
class ThetaPoints:
    """θ estimates of the computed users fitted on or before ``as_of`` (UTC dates), shape (n_points,).

    Rows with a null θ or fitted_at, or of users not computed for, are gone. ``se`` is NaN where
    null, not finite or ≤ 0 (unknown); known SEs are clipped into ``SE_LIMITS``.
    """

    n_users: int
    user: NDArray[np.intp]
    days_ago: NDArray[np.int64]
    """``as_of`` minus the UTC date of ``fitted_at`` (≥ 0)."""
    fitted_ns: NDArray[np.int64]
    theta: NDArray[np.float64]
    se: NDArray[np.float64]

    def select(self, mask: NDArray[np.bool_]) -> ThetaPoints:
        """The points where ``mask`` (shape (n_points,)) is true."""
        return ThetaPoints(
            self.n_users,
            self.user[mask],
            self.days_ago[mask],
            self.fitted_ns[mask],
            self.theta[mask],
            self.se[mask],
        )

    def latest_in_days(
        self, newest_days_ago: int, oldest_days_ago: int
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(θ, se) of each user's latest point dated in the given day range; NaN where none.

        Shapes (n_users,), (n_users,).
        """
        inside = self.select((self.days_ago >= newest_days_ago) & (self.days_ago <= oldest_days_ago))
        rows = _grouped.latest_rows(inside.user, inside.fitted_ns, self.n_users)
        return _grouped.take_or_nan(inside.theta, rows), _grouped.take_or_nan(inside.se, rows)


def prepare_theta_history(
    theta_history: pd.DataFrame | None, users: Iterable[str] | pd.Index | pd.Series, as_of: date
) -> ThetaPoints:
    """Points of ``theta_history`` (``THETA_HISTORY_COLUMNS``; None or empty = no history)."""
    users = user_index(users)
    if theta_history is None or theta_history.empty:
        return _no_points(len(users))
    require_columns(theta_history, THETA_HISTORY_COLUMNS, "theta_history")
    user = codes_in(users, theta_history["user_id"])
    fitted_ns, has_time = utc_nanoseconds(theta_history["fitted_at"])
    days_ago = day_number(as_of) - np.floor_divide(fitted_ns, DAY_NS)
    theta = float_or_nan(theta_history["theta"])
    se = float_or_nan(theta_history["se"])
    keep = (user >= 0) & has_time & (days_ago >= 0) & np.isfinite(theta)
    usable_se = np.isfinite(se) & (se > 0)
    return ThetaPoints(
        len(users),
        user[keep],
        days_ago[keep],
        fitted_ns[keep],
        theta[keep],
        np.where(usable_se, np.clip(se, *SE_LIMITS), np.nan)[keep],
    )


def _no_points(n_users: int) -> ThetaPoints:
    return ThetaPoints(
        n_users,
        np.empty(0, dtype=np.intp),
        np.empty(0, dtype=np.int64),
        np.empty(0, dtype=np.int64),
        np.empty(0, dtype=np.float64),
        np.empty(0, dtype=np.float64),
    )
