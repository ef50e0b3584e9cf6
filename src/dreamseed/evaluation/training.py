"""Training the churn model on weekly snapshots of a platform, honestly: a time-based hold-out.

A snapshot = every user with activity in the 56 days before a cut-off day, their churn features as
of that day and the outcome (no activity in the horizon days after it). The last third of the
cut-off days is held out; the model trains on the cut-offs whose outcome window closed before the
first held-out day, and is compared with S_v1 on the held-out rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dreamseed.evaluation.churn_features import FEATURE_COLUMNS
from dreamseed.evaluation.churn_model import ChurnModel, train_churn_model
from dreamseed.evaluation.selection import ChurnComparison, HoldoutSplit, compare_churn, holdout_split


@dataclass(frozen=True)
class ChurnSnapshots:
    """Rows (user, cut-off day): ``frame`` has user_id, cutoff (datetime.date) and ``FEATURE_COLUMNS``;
    ``outcomes`` (n_rows,) is 1.0 for no activity within the horizon after the cut-off."""

    frame: pd.DataFrame
    outcomes: NDArray[np.float64]

    @classmethod
    def concat(cls, parts: list[ChurnSnapshots]) -> ChurnSnapshots:
        if not parts:
            return cls(pd.DataFrame(columns=["user_id", "cutoff", *FEATURE_COLUMNS]), np.empty(0))
        return cls(
            pd.concat([p.frame for p in parts], ignore_index=True),
            np.concatenate([p.outcomes for p in parts]),
        )

    def on_days(self, days: tuple[date, ...]) -> ChurnSnapshots:
        """The rows whose cut-off day is one of ``days``."""
        rows = self.frame["cutoff"].isin(days).to_numpy()
        return ChurnSnapshots(self.frame[rows].reset_index(drop=True), self.outcomes[rows])


@dataclass(frozen=True)
class TrainedChurnModel:
    """A model trained on ``split.train_days`` and its comparison with S_v1 on ``split.holdout_days``."""

    model: ChurnModel
    comparison: ChurnComparison
    split: HoldoutSplit
    train_rows: int
    holdout_rows: int

    def metrics(self) -> dict[str, Any]:
        """JSON-ready summary stored with the model (``stored_model_wins`` reads it)."""
        return {
            **self.comparison.as_metrics(),
            "train_days": [d.isoformat() for d in self.split.train_days],
            "holdout_days": [d.isoformat() for d in self.split.holdout_days],
            "train_rows": self.train_rows,
            "holdout_rows": self.holdout_rows,
            "horizon_days": self.model.horizon_days,
        }


def train_and_compare(
    snapshots: ChurnSnapshots, horizon_days: int = 14, holdout_share: float = 1 / 3
) -> TrainedChurnModel:
    """Split the cut-off days in time, train on the past part, compare with S_v1 on the held-out part.

    Raises ValueError when there are too few cut-off days (the training part is empty) or the
    training rows have a single outcome.
    """
    split = holdout_split(sorted(set(snapshots.frame["cutoff"])), horizon_days, holdout_share)
    if not split.train_days:
        raise ValueError(
            f"too few cut-off days to train and hold out: need training days at least {horizon_days} "
            f"days before the held-out ones, got {len(split.holdout_days)} day(s) in all"
        )
    train, holdout = snapshots.on_days(split.train_days), snapshots.on_days(split.holdout_days)
    model = train_churn_model(train.frame, train.outcomes, train.frame["cutoff"], horizon_days)
    return TrainedChurnModel(
        model=model,
        comparison=compare_churn(model, holdout.frame, holdout.outcomes),
        split=split,
        train_rows=len(train.outcomes),
        holdout_rows=len(holdout.outcomes),
    )
